//! Fault injection: errors, 429s, connection resets and latency, drawn per request.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    pub error_rate: f64,
    pub rate_limit_rate: f64,
    pub reset_rate: f64,
    pub latency_ms: u64,
    pub latency_spike_rate: f64,
    pub latency_spike_ms: u64,
    /// Retry-After sent with injected 429s, in seconds.
    pub retry_after: Option<f64>,
    /// Only writes (POST/PUT/DELETE) get faults; reads are left alone.
    pub writes_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Injected {
    None,
    Error,
    RateLimited(f64),
    /// Apply the write, then drop the connection without an answer.
    ResetAfterApply,
}

impl Faults {
    pub fn clamp(mut self) -> Self {
        for r in [
            &mut self.error_rate,
            &mut self.rate_limit_rate,
            &mut self.reset_rate,
            &mut self.latency_spike_rate,
        ] {
            if !r.is_finite() {
                *r = 0.0;
            }
            *r = r.clamp(0.0, 1.0);
        }
        self.latency_ms = self.latency_ms.min(60_000);
        self.latency_spike_ms = self.latency_spike_ms.min(60_000);
        self
    }

    pub fn delay_ms(&self, is_write: bool) -> u64 {
        if self.writes_only && !is_write {
            return 0;
        }
        let mut d = self.latency_ms;
        if self.latency_spike_rate > 0.0 && rand::random::<f64>() < self.latency_spike_rate {
            d += self.latency_spike_ms;
        }
        d
    }

    pub fn draw(&self, is_write: bool) -> Injected {
        if self.writes_only && !is_write {
            return Injected::None;
        }
        let x: f64 = rand::random();
        if x < self.error_rate {
            Injected::Error
        } else if x < self.error_rate + self.rate_limit_rate {
            Injected::RateLimited(self.retry_after.unwrap_or(1.0).clamp(0.0, 3600.0))
        } else if is_write && x < self.error_rate + self.rate_limit_rate + self.reset_rate {
            Injected::ResetAfterApply
        } else {
            Injected::None
        }
    }
}
