//! When to try again, as pure functions of what happened, so the policy can be read
//! and tested as a table.

use std::time::Duration;

/// How hard the client tries before it gives an error back.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }
}

/// What came back from one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The connection failed before the request was written: always safe to repeat.
    NotSent,
    /// Timeout, reset or broken answer after the request may have been applied.
    MaybeApplied,
    Status {
        code: u16,
        retry_after: Option<f64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Retry(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// `attempt` counts from 1 (the attempt that just failed); `safe` means repeating the
    /// request cannot apply it twice (an idempotent method, or a POST with an idempotency
    /// key). `jitter` is a number in `[0, 1)`.
    pub fn decide(&self, outcome: Outcome, attempt: u32, safe: bool, jitter: f64) -> Decision {
        if attempt > self.max_retries {
            return Decision::GiveUp;
        }
        let backoff = self.backoff(attempt, jitter);
        match outcome {
            Outcome::NotSent => Decision::Retry(backoff),
            Outcome::MaybeApplied if safe => Decision::Retry(backoff),
            Outcome::MaybeApplied => Decision::GiveUp,
            Outcome::Status {
                code: 429,
                retry_after,
            } => {
                // Never panics on what a caller passes in: NaN or a negative value means
                // "no usable hint", a value too large for a Duration means "too long".
                let wait = match retry_after.map(Duration::try_from_secs_f64) {
                    Some(Ok(d)) => d,
                    Some(Err(_)) if retry_after.is_some_and(|s| s > 0.0) => Duration::MAX,
                    _ => backoff,
                };
                // Waiting longer than the cap inside one call would stall the caller;
                // hand the wait back (the outbox schedules it instead).
                // Retry-After is a floor, and the jittered backoff goes on top of it:
                // every request refused at the same moment is told the same wait, and
                // without the spread they would all come back at once and be refused
                // again (at concurrency 32, most of them every time).
                if wait > self.cap {
                    Decision::GiveUp
                } else {
                    Decision::Retry(wait.saturating_add(backoff).min(self.cap))
                }
            }
            Outcome::Status { code, .. } if (500..600).contains(&code) && code != 501 && safe => {
                Decision::Retry(backoff)
            }
            Outcome::Status { .. } => Decision::GiveUp,
        }
    }

    /// Exponential backoff with full jitter, capped.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)));
        let ceiling = exp.min(self.cap);
        // Full jitter, but never less than a tenth of the ceiling, so a retry storm
        // cannot collapse onto zero delay.
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        // try_from: `mul_f64` panics when rounding takes a huge ceiling past Duration::MAX.
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * (0.1 + 0.9 * jitter)).unwrap_or(ceiling)
    }
}

/// Parses `Retry-After` given in seconds (whole or decimal). See
/// [`parse_retry_after_at`] for the HTTP-date form.
pub fn parse_retry_after(v: &str) -> Option<f64> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs.min(86_400.0))
}

/// Parses `Retry-After` in either form HTTP allows: seconds, or an HTTP-date, which
/// becomes the seconds from `now` until then (0 for a date already past; at most a day).
pub fn parse_retry_after_at(v: &str, now: std::time::SystemTime) -> Option<f64> {
    parse_retry_after(v).or_else(|| {
        let at = httpdate::parse_http_date(v.trim()).ok()?;
        Some(
            at.duration_since(now)
                .map_or(0.0, |d| d.as_secs_f64())
                .min(86_400.0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        }
    }

    #[test]
    fn retry_table() {
        let status = |code| Outcome::Status {
            code,
            retry_after: None,
        };
        let cases = [
            (Outcome::NotSent, 1, false, true),
            (Outcome::MaybeApplied, 1, true, true),
            (Outcome::MaybeApplied, 1, false, false),
            (status(503), 1, true, true),
            (status(503), 1, false, false),
            (status(500), 3, true, true),
            (status(500), 4, true, false),
            (status(501), 1, true, false),
            (status(400), 1, true, false),
            (status(409), 1, true, false),
            (status(422), 1, true, false),
            (status(429), 1, false, true),
        ];
        for (outcome, attempt, safe, retry) in cases {
            let got = p().decide(outcome, attempt, safe, 0.5);
            assert_eq!(
                matches!(got, Decision::Retry(_)),
                retry,
                "{outcome:?} attempt {attempt} safe {safe}"
            );
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_too_long_is_handed_back() {
        let ra = |s| Outcome::Status {
            code: 429,
            retry_after: Some(s),
        };
        // 1.5 s, plus the attempt's jittered backoff (10%..100% of 100 ms).
        assert_eq!(
            p().decide(ra(1.5), 1, true, 0.0),
            Decision::Retry(Duration::from_millis(1510))
        );
        assert_eq!(
            p().decide(ra(1.5), 1, true, 1.0),
            Decision::Retry(Duration::from_millis(1600))
        );
        // Never past the cap, even when the backoff would take it there.
        assert_eq!(
            p().decide(ra(1.95), 1, true, 1.0),
            Decision::Retry(Duration::from_secs(2))
        );
        assert_eq!(p().decide(ra(30.0), 1, true, 0.0), Decision::GiveUp);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = p();
        assert_eq!(policy.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(policy.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(policy.backoff(30, 1.0), Duration::from_secs(2));
        assert!(policy.backoff(3, 0.0) >= Duration::from_millis(40));
    }

    #[test]
    fn retry_after_parsing_refuses_garbage() {
        assert_eq!(parse_retry_after("2"), Some(2.0));
        assert_eq!(parse_retry_after(" 0.5 "), Some(0.5));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn retry_after_as_an_http_date_is_the_time_until_then() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("date");
        let at = |v: &str| parse_retry_after_at(v, now);
        assert_eq!(at("Wed, 21 Oct 2015 07:28:30 GMT"), Some(30.0));
        // The two obsolete forms HTTP still asks recipients to accept.
        assert_eq!(at("Wednesday, 21-Oct-15 07:29:00 GMT"), Some(60.0));
        assert_eq!(at("Wed Oct 21 07:28:05 2015"), Some(5.0));
        assert_eq!(
            at("Wed, 21 Oct 2015 07:00:00 GMT"),
            Some(0.0),
            "a past date: now"
        );
        assert_eq!(
            at("Thu, 21 Oct 2055 07:28:00 GMT"),
            Some(86_400.0),
            "at most a day"
        );
        assert_eq!(at("12"), Some(12.0));
        assert_eq!(at("tomorrow"), None);
        assert_eq!(at(""), None);
    }
}
