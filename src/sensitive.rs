//! Marks the parameters that carry secrets with `#[\SensitiveParameter]`, as PHP's own
//! functions do (`password_hash`, `PDO::__construct`, ...): a stack trace then shows
//! `Object(SensitiveParameterValue)` instead of the value. Without it, with
//! `zend.exception_ignore_args=Off` (the CLI default, and many staging sites), any
//! exception thrown from these calls carries the secret in its trace: the first 15
//! characters in `getTraceAsString()`, all of it in `print_r($e)`, `var_export($e)` and
//! in error trackers that serialize trace arguments.
//!
//! ext-php-rs has no way to declare parameter attributes, and registers the classes after
//! the module's own startup function has run; so the attributes are added from the
//! engine's post-startup callback, when every class exists.

use std::ffi::c_void;
use std::panic::catch_unwind;

use ext_php_rs::ffi::{
    zend_class_entry, zend_function, zend_hash_str_find_ptr_lc, zend_string, HashTable,
};
use ext_php_rs::types::ZendStr;

/// (class, method, zero-based parameter) of every parameter that carries a secret.
const SENSITIVE: &[(&str, &str, u32)] = &[
    ("tradinggrid\\client", "__construct", 0), // the options array holds clientSecret
    ("tradinggrid\\client", "subscribewebhook", 1),
    // A network user's body may hold its loginPassword and password hints.
    ("tradinggrid\\client", "createcompanyuser", 1),
    ("tradinggrid\\client", "updatecompanyuser", 2),
    ("tradinggrid\\webhook", "verify", 2),
    ("tradinggrid\\webhook", "sign", 1),
];

/// `ZEND_ATTRIBUTE_PERSISTENT` (zend_attributes.h): internal functions live for the process.
const ATTRIBUTE_PERSISTENT: u32 = 1;

type PostStartup = unsafe extern "C" fn() -> i32;

extern "C" {
    // zend_attributes.h: `zend_add_parameter_attribute()` is an inline wrapper of this.
    fn zend_add_attribute(
        attributes: *mut *mut HashTable,
        name: *mut zend_string,
        argc: u32,
        flags: u32,
        offset: u32,
        lineno: u32,
    ) -> *mut c_void;
    // zend.h: called once after every module's MINIT (opcache chains it the same way).
    static mut zend_post_startup_cb: Option<PostStartup>;
}

static mut PREVIOUS: Option<PostStartup> = None;

/// Called from MINIT: runs [`mark`] once every class is registered.
pub fn install() {
    // SAFETY: MINIT runs single-threaded before any request; the previous callback is
    // kept and called after ours.
    unsafe {
        PREVIOUS = zend_post_startup_cb;
        zend_post_startup_cb = Some(post_startup);
    }
}

unsafe extern "C" fn post_startup() -> i32 {
    // Never unwind into the engine; a failure only means traces keep their arguments.
    let _ = catch_unwind(|| unsafe { mark() });
    // SAFETY: the callback that was installed before ours, or none.
    match unsafe { PREVIOUS } {
        Some(previous) => unsafe { previous() },
        None => 0,
    }
}

unsafe fn find<T>(table: *mut HashTable, lc_name: &str) -> *mut T {
    if table.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a live engine hash table; the name is lower case as the lookup requires.
    unsafe { zend_hash_str_find_ptr_lc(table, lc_name.as_ptr().cast(), lc_name.len()).cast::<T>() }
}

unsafe fn mark() {
    // One persistent "SensitiveParameter" string for the life of the process (the engine
    // takes its own reference for each attribute).
    let name: *mut zend_string = ZendStr::new("SensitiveParameter", true).into_raw();
    for (class, method, param) in SENSITIVE {
        // SAFETY: post-startup runs single-threaded; the class and function tables and
        // their entries are persistent.
        unsafe {
            let classes = ext_php_rs::ffi::compiler_globals.class_table;
            let ce: *mut zend_class_entry = find(classes, class);
            if ce.is_null() {
                continue;
            }
            let func: *mut zend_function = find(&raw mut (*ce).function_table, method);
            if func.is_null() || *param >= (*func).common.num_args {
                continue;
            }
            zend_add_attribute(
                &raw mut (*func).common.attributes,
                name,
                0,
                ATTRIBUTE_PERSISTENT,
                param + 1,
                0,
            );
        }
    }
}
