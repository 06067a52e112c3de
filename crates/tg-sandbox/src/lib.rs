//! tg-sandbox: a real HTTP server that implements the Trading Grid contract
//! (docs/contract.md) for the demo and the tests: token endpoint, documented
//! Community Management reads, the extension resources, the event feed, signed
//! webhooks, fault injection and a readable status page.

mod faults;
pub mod lens;
mod problem;
mod routes;
mod simulate;
pub mod state;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::Faults;
use state::State;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub data: Option<PathBuf>,
    pub client_id: String,
    pub client_secret: String,
    pub tenant: String,
    pub token_ttl_secs: u64,
    pub rate_limit_per_sec: Option<u32>,
    pub simulate_partners: bool,
    pub quiet: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: None,
            client_id: "demo-client".into(),
            client_secret: "demo-secret".into(),
            tenant: "GC51278300AS".into(),
            token_ttl_secs: 36_000,
            rate_limit_per_sec: None,
            simulate_partners: false,
            quiet: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("cannot read the state file {0}: {1}")]
    Load(PathBuf, String),
}

/// Shared by every handler.
pub struct App {
    pub cfg: SandboxConfig,
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    /// token → expiry (unix seconds).
    pub tokens: Mutex<std::collections::HashMap<String, f64>>,
    pub bucket: Mutex<(f64, f64)>,
    pub dirty: AtomicBool,
}

impl App {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
    }
    fn save(&self) {
        let Some(path) = &self.cfg.data else { return };
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let json = {
            let s = self.lock();
            serde_json::to_vec(&*s)
        };
        let Ok(json) = json else { return };
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

pub struct RunningSandbox {
    pub addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningSandbox {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many access tokens the token endpoint has handed out (and not yet forgotten).
    pub fn tokens_issued(&self) -> usize {
        self.app
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Stops serving and writes the state file.
    pub async fn shutdown(mut self) {
        self.stop_now().await;
    }

    async fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
        }
        for h in self.background.drain(..) {
            h.abort();
        }
        self.app.mark_dirty();
        self.app.save();
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        for h in self.background.drain(..) {
            h.abort();
        }
        self.app.save();
    }
}

pub async fn start(cfg: SandboxConfig) -> Result<RunningSandbox, Error> {
    let mut state = State::new(&cfg.tenant);
    if let Some(path) = &cfg.data {
        if path.exists() {
            let bytes =
                std::fs::read(path).map_err(|e| Error::Load(path.clone(), e.to_string()))?;
            state = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Load(path.clone(), e.to_string()))?;
        }
    }
    let app = Arc::new(App {
        cfg: cfg.clone(),
        state: Mutex::new(state),
        faults: Mutex::new(Faults::default()),
        tokens: Mutex::new(Default::default()),
        bucket: Mutex::new((
            f64::from(cfg.rate_limit_per_sec.unwrap_or(0)),
            state::now_unix(),
        )),
        dirty: AtomicBool::new(false),
    });
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| Error::Listen(cfg.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Listen(cfg.listen, e))?;
    let router = routes::router(app.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    let mut background = vec![tokio::spawn(webhooks::deliver_forever(app.clone()))];
    if cfg.data.is_some() {
        let a = app.clone();
        background.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let a2 = a.clone();
                let _ = tokio::task::spawn_blocking(move || a2.save()).await;
            }
        }));
    }
    if cfg.simulate_partners {
        background.push(tokio::spawn(simulate::run(app.clone())));
    }
    Ok(RunningSandbox {
        addr,
        app,
        stop: Some(tx),
        server: Some(server),
        background,
    })
}
