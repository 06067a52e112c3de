//! One tokio runtime per PHP process, built on first use.
//!
//! PHP-FPM loads extensions in the master and then `fork()`s workers. A runtime that
//! existed before the fork is dead in the child (its worker threads did not survive),
//! and using it hangs forever. So the runtime remembers the pid that built it; when the
//! pid changes, the inherited runtime is leaked on purpose (dropping it would try to
//! join threads that do not exist in this process) and a new one is built.
//!
//! A small multi-thread runtime (two workers) is used rather than `current_thread`:
//! hyper's connection tasks then make progress on their own threads while PHP waits in
//! `block_on`, which keeps many pooled connections busy at once.

use std::future::Future;
use std::sync::Mutex;

use tokio::runtime::{Builder, Runtime};

struct Owned {
    pid: u32,
    runtime: &'static Runtime,
}

static RUNTIME: Mutex<Option<Owned>> = Mutex::new(None);

fn runtime() -> Result<&'static Runtime, String> {
    let pid = std::process::id();
    // A panic while the lock was held (impossible in practice) must not disable the
    // extension for the rest of the process: recover the guard.
    let mut guard = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(owned) = guard.as_ref() {
        if owned.pid == pid {
            return Ok(owned.runtime);
        }
    }
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("trading-grid")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
    // Leaked: lives for the process (or until a fork makes it unusable, when it is
    // abandoned rather than dropped).
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *guard = Some(Owned { pid, runtime: rt });
    Ok(rt)
}

/// Runs `fut` to completion on the process runtime.
pub fn block_on<F: Future>(fut: F) -> Result<F::Output, String> {
    Ok(runtime()?.block_on(fut))
}

/// The pid the current runtime was built in, for `phpinfo()`.
pub fn runtime_pid() -> Option<u32> {
    RUNTIME.lock().ok().and_then(|g| g.as_ref().map(|o| o.pid))
}
