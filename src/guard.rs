//! Every PHP entry point runs its body through [`call`]: a Rust panic becomes a
//! `TradingGrid\Exception` instead of an `\Error` (or worse, an abort), and a
//! `tg_core::Error` becomes the matching exception class.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ext_php_rs::exception::PhpException;
use ext_php_rs::types::Zval;

use tg_core::Error;

use crate::convert::json_to_zval;
use crate::errors;

pub fn call<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, PhpException> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::throw(&e)),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(errors::internal(format!(
                "unexpected failure inside the extension: {msg}"
            )))
        }
    }
}

/// The same, for bodies that produce JSON returned to PHP as arrays.
pub fn call_json(
    f: impl FnOnce() -> Result<serde_json::Value, Error>,
) -> Result<Zval, PhpException> {
    call(|| f().and_then(|v| json_to_zval(&v)))
}

/// Runs a future on the process runtime.
pub fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, Error> {
    crate::runtime::block_on(fut).map_err(Error::Internal)
}

/// Installed in MINIT: panics are reported as exceptions, so the default hook's
/// stderr line would only be noise in PHP-FPM logs. `TRADING_GRID_DEBUG=1` keeps it.
pub fn install_quiet_panic_hook() {
    if std::env::var_os("TRADING_GRID_DEBUG").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|_| {}));
}
