//! The `trading_grid` PHP extension: binding glue only. Business logic lives in
//! `tg-core`; this crate turns PHP values into core types and core errors into PHP
//! exceptions, and owns the per-process runtime.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod client;
mod convert;
mod errors;
mod guard;
mod mapper;
mod runtime;
mod sensitive;
mod webhook;

/// Rust's own allocations (payloads, answers, the HTTP stack) go to mimalloc rather than
/// glibc's malloc: a batch allocates on the PHP thread and frees on the runtime's worker
/// threads (and back), which glibc serves with arena locks and consolidation. PHP's own
/// memory (zvals, arrays) is untouched: it stays with the Zend allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

/// The extension's version.
#[php_function]
#[php(name = "TradingGrid\\version")]
pub fn version() -> String {
    tg_core::VERSION.to_string()
}

/// Test hook: panics inside the extension so the test suite can prove a panic becomes
/// a TradingGrid\Exception. Refuses unless TRADING_GRID_TEST_HOOKS=1 is in the environment.
#[php_function]
#[php(name = "TradingGrid\\testPanic")]
pub fn test_panic(message: String) -> PhpResult<()> {
    guard::call(|| {
        if std::env::var("TRADING_GRID_TEST_HOOKS").as_deref() != Ok("1") {
            return Err(tg_core::Error::Internal(
                "test hooks are disabled (set TRADING_GRID_TEST_HOOKS=1)".into(),
            ));
        }
        panic!("{message}");
    })
}

extern "C" fn module_info(_module: *mut ModuleEntry) {
    // Runs outside any PHP call: nothing here may panic or touch secrets.
    let _ = std::panic::catch_unwind(|| {
        info_table_start!();
        info_table_row!("trading_grid support", "enabled");
        info_table_row!("version", tg_core::VERSION);
        info_table_row!("operations", tg_core::api::OpKind::ALL.len().to_string());
        info_table_row!(
            "TLS",
            "rustls (ring), certificate verification always on; plain http only on loopback"
        );
        info_table_row!("HTTP", "HTTP/2 and HTTP/1.1, pooled connections");
        let rt = runtime::runtime_pid()
            .map(|p| format!("started in pid {p}"))
            .unwrap_or_else(|| "not started (starts on first call)".to_string());
        info_table_row!("runtime", rt);
        info_table_end!();
    });
}

unsafe extern "C" fn startup(_ty: i32, _module_number: i32) -> i32 {
    let ok = std::panic::catch_unwind(|| {
        guard::install_quiet_panic_hook();
        sensitive::install();
        errors::register()
    });
    match ok {
        Ok(Ok(())) => 0,
        Ok(Err(msg)) => {
            eprintln!("trading_grid: {msg}");
            -1
        }
        Err(_) => {
            eprintln!("trading_grid: startup failed unexpectedly");
            -1
        }
    }
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .startup_function(startup)
        .info_function(module_info)
        .class::<client::Client>()
        .class::<webhook::Webhook>()
        .class::<mapper::Mapper>()
        .function(wrap_function!(version))
        .function(wrap_function!(test_panic))
}
