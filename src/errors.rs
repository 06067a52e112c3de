//! The exception tree, registered in MINIT with `ClassBuilder` so the classes behave
//! like ordinary PHP exceptions (constructible, with file and line), and the mapping
//! from `tg_core::Error` to the right class with its extra properties.
//!
//! ```text
//! TradingGrid\Exception (extends \RuntimeException)
//!  ├─ ValidationException   getField(), getErrors()
//!  ├─ AuthException
//!  ├─ RateLimitedException  getRetryAfter()
//!  ├─ TransportException    isRetryable()
//!  ├─ ApiException          getStatus(), getProblem()
//!  └─ SignatureException
//! ```

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::args::ArgInfoTables;
use ext_php_rs::builders::{ClassBuilder, ClassProperty, FunctionBuilder};
use ext_php_rs::exception::{throw_object, PhpException};
use ext_php_rs::flags::{DataType, MethodFlags, PropertyFlags};
use ext_php_rs::types::Zval;
use ext_php_rs::zend::{ce, run_handler, ClassEntry, ExecuteData, ExecutorGlobals};

use tg_core::Error;

use crate::convert::json_to_zval;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    Base,
    Validation,
    Auth,
    RateLimited,
    Transport,
    Api,
    Signature,
}

const ALL: [Class; 7] = [
    Class::Base,
    Class::Validation,
    Class::Auth,
    Class::RateLimited,
    Class::Transport,
    Class::Api,
    Class::Signature,
];

static ENTRIES: [AtomicPtr<ClassEntry>; 7] = [
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
];

impl Class {
    fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::Base => "TradingGrid\\Exception",
            Class::Validation => "TradingGrid\\ValidationException",
            Class::Auth => "TradingGrid\\AuthException",
            Class::RateLimited => "TradingGrid\\RateLimitedException",
            Class::Transport => "TradingGrid\\TransportException",
            Class::Api => "TradingGrid\\ApiException",
            Class::Signature => "TradingGrid\\SignatureException",
        }
    }

    fn docs(self) -> &'static [&'static str] {
        match self {
            Class::Base => &["Base of every exception the Trading Grid extension throws."],
            Class::Validation => &[
                "A payload, option or mapping is invalid; nothing was sent.",
                "getField() names the first bad field path, getErrors() lists them all.",
            ],
            Class::Auth => &["Trading Grid refused the client credentials or the token."],
            Class::RateLimited => &[
                "Trading Grid kept answering 429; getRetryAfter() says how long to wait (seconds).",
            ],
            Class::Transport => &[
                "No (complete) answer came back: connect failure, reset or timeout.",
                "isRetryable() tells whether trying again later is safe.",
            ],
            Class::Api => &[
                "Trading Grid answered with an error; getStatus() is the HTTP status and",
                "getProblem() the decoded problem+json (or documented error) body.",
            ],
            Class::Signature => {
                &["A webhook delivery failed verification (signature, timestamp or body)."]
            }
        }
    }

    /// The properties and getters each class adds: (property, getter, type).
    fn accessors(self) -> &'static [(&'static str, &'static str, DataType)] {
        match self {
            Class::Validation => &[
                ("field", "getField", DataType::String),
                ("errors", "getErrors", DataType::Array),
            ],
            Class::RateLimited => &[("retryAfter", "getRetryAfter", DataType::Double)],
            Class::Transport => &[("retryable", "isRetryable", DataType::Bool)],
            Class::Api => &[
                ("status", "getStatus", DataType::Long),
                ("problem", "getProblem", DataType::Array),
            ],
            _ => &[],
        }
    }

    pub fn entry(self) -> &'static ClassEntry {
        let p = ENTRIES[self.index()].load(Ordering::Acquire);
        // SAFETY: set once in MINIT from the engine's class table, which outlives us.
        unsafe { p.as_ref() }.unwrap_or_else(ce::exception)
    }
}

/// `\RuntimeException` from the compiler's class table: in MINIT the executor's table
/// (which `ClassEntry::try_find` reads) does not exist yet, but SPL has registered there.
fn runtime_exception() -> &'static ClassEntry {
    const NAME: &str = "RuntimeException";
    // SAFETY: MINIT runs single-threaded after SPL's MINIT; the table and its entries
    // live for the whole process. A null result falls back to \Exception.
    let found = unsafe {
        let table = ext_php_rs::ffi::compiler_globals.class_table;
        if table.is_null() {
            std::ptr::null_mut()
        } else {
            ext_php_rs::ffi::zend_hash_str_find_ptr_lc(table, NAME.as_ptr().cast(), NAME.len())
                .cast::<ClassEntry>()
        }
    };
    // SAFETY: a non-null pointer from the class table is a live class entry.
    unsafe { found.as_ref() }.unwrap_or_else(ce::exception)
}

fn base_entry() -> &'static ClassEntry {
    Class::Base.entry()
}

fn read_property(ex: &mut ExecuteData, retval: &mut Zval, prop: &str, ty: DataType) {
    let value = ex.get_self().and_then(|obj| {
        obj.get_property::<&Zval>(prop)
            .ok()
            .map(Zval::shallow_clone)
    });
    match value {
        Some(v) if !v.is_null() => *retval = v,
        _ => match ty {
            DataType::Array => {
                let _ = retval.set_array(Vec::<i64>::new());
            }
            DataType::String => {
                let _ = retval.set_string("", false);
            }
            DataType::Double => retval.set_double(0.0),
            DataType::Long => retval.set_long(0),
            DataType::Bool => retval.set_bool(false),
            _ => retval.set_null(),
        },
    }
}

macro_rules! getter {
    ($fn_name:ident, $prop:literal, $ty:expr) => {
        extern "C" fn $fn_name(ex: &mut ExecuteData, retval: &mut Zval) {
            run_handler(AssertUnwindSafe(|| read_property(ex, retval, $prop, $ty)));
        }
    };
}

getter!(get_field, "field", DataType::String);
getter!(get_errors, "errors", DataType::Array);
getter!(get_retry_after, "retryAfter", DataType::Double);
getter!(is_retryable, "retryable", DataType::Bool);
getter!(get_status, "status", DataType::Long);
getter!(get_problem, "problem", DataType::Array);

type Handler = extern "C" fn(&mut ExecuteData, &mut Zval);

fn handler_for(getter: &str) -> Option<Handler> {
    Some(match getter {
        "getField" => get_field,
        "getErrors" => get_errors,
        "getRetryAfter" => get_retry_after,
        "isRetryable" => is_retryable,
        "getStatus" => get_status,
        "getProblem" => get_problem,
        _ => return None,
    })
}

/// Registers the exception classes; called from MINIT before anything can throw.
pub fn register() -> Result<(), String> {
    for class in ALL {
        let parent: fn() -> &'static ClassEntry = if class == Class::Base {
            runtime_exception
        } else {
            base_entry
        };
        let parent_name = if class == Class::Base {
            "\\RuntimeException"
        } else {
            "\\TradingGrid\\Exception"
        };
        let mut builder = ClassBuilder::new(class.name())
            .extends((parent, parent_name))
            .docs(class.docs());
        for (prop, getter, ty) in class.accessors() {
            builder = builder.property(ClassProperty {
                name: (*prop).to_string(),
                flags: PropertyFlags::Public,
                default: Some(Box::new(|| {
                    let mut z = Zval::new();
                    z.set_null();
                    Ok(z)
                })),
                docs: &[],
                ty: None,
                nullable: true,
                readonly: false,
                default_stub: Some("null".into()),
            });
            let handler = handler_for(getter).ok_or_else(|| format!("no handler for {getter}"))?;
            builder = builder.method(
                FunctionBuilder::new(*getter, handler).returns(*ty, false, false),
                MethodFlags::Public,
            );
        }
        builder
            .registration(on_registered)
            .register()
            .map_err(|e| format!("cannot register {}: {e}", class.name()))?;
        if ENTRIES[class.index()].load(Ordering::Acquire).is_null() {
            return Err(format!("{} was not registered", class.name()));
        }
    }
    Ok(())
}

/// Keeps the engine's class entry for throwing later, and the argument-info tables
/// alive for the life of the process (the engine points into them).
fn on_registered(entry: &'static mut ClassEntry, tables: ArgInfoTables) {
    std::mem::forget(tables);
    let name = entry.name().unwrap_or_default().to_string();
    if let Some(class) = ALL.iter().find(|c| c.name() == name) {
        ENTRIES[class.index()].store(std::ptr::from_mut(entry), Ordering::Release);
    }
}

/// What a failed call throws. Properties are set on the thrown object after the engine
/// built it (so message, file and line are the engine's own).
pub fn throw(err: &Error) -> PhpException {
    let class = match err {
        Error::Validation { .. } => Class::Validation,
        Error::Auth { .. } => Class::Auth,
        Error::RateLimited { .. } => Class::RateLimited,
        Error::Transport { .. } => Class::Transport,
        Error::Conflict { .. } | Error::NotFound { .. } | Error::Api { .. } => Class::Api,
        Error::Signature(_) => Class::Signature,
        Error::Internal(_) => Class::Base,
    };
    // The engine takes the message as a C string: a NUL byte (echoed from a caller's
    // argument, or from a server's error body) would turn this exception into a plain
    // \Error "cannot throw ...". Show it escaped instead.
    let message = err.to_string().replace('\0', "\\0");
    let code = i32::from(err.status().unwrap_or(0));
    if class.accessors().is_empty() {
        return PhpException::new(message, code, class.entry());
    }
    // Throw through the engine, then decorate the pending exception object.
    if ext_php_rs::exception::throw_with_code(class.entry(), code, &message).is_err() {
        return PhpException::new(message, code, class.entry());
    }
    let Some(mut obj) = ExecutorGlobals::take_exception() else {
        return PhpException::new(message, code, class.entry());
    };
    let _ = match err {
        Error::Validation { errors } => {
            let list: Vec<serde_json::Value> = errors
                .iter()
                .map(|e| serde_json::json!({"field": e.field, "message": e.message}))
                .collect();
            let _ = obj.set_property(
                "field",
                errors.first().map(|e| e.field.clone()).unwrap_or_default(),
            );
            json_to_zval(&serde_json::Value::Array(list)).map(|z| obj.set_property("errors", z))
        }
        Error::RateLimited { retry_after } => Ok(obj.set_property("retryAfter", *retry_after)),
        Error::Transport { retryable, .. } => Ok(obj.set_property("retryable", *retryable)),
        Error::Conflict { problem, .. }
        | Error::NotFound { problem, .. }
        | Error::Api { problem, .. } => {
            let _ = obj.set_property("status", i64::from(err.status().unwrap_or(0)));
            let problem = if problem.is_object() {
                problem.clone()
            } else {
                serde_json::json!({})
            };
            json_to_zval(&problem).map(|z| obj.set_property("problem", z))
        }
        _ => Ok(Ok(())),
    };
    let mut z = Zval::new();
    z.set_object(&mut obj);
    // `z` now holds its own reference; `obj` drops its one.
    let _ = throw_object(z);
    // An exception is pending; the PhpException returned is ignored by `throw()`.
    PhpException::new(message, code, class.entry())
}

pub fn internal(message: impl Into<String>) -> PhpException {
    throw(&Error::Internal(message.into()))
}
