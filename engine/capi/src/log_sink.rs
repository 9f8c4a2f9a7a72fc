//! The C API's log sink: a `log::Log` implementation that forwards every record to the log
//! callbacks of the live contexts (`VksplatContextDesc::log`).
//!
//! Engine crates log through the `log` facade, and the plugin host sends plugin log lines
//! through it too, so one path reaches the host. The logger is installed once per process,
//! when the first context with a callback is created; if the process installed another Rust
//! logger before, `log` keeps that one and callbacks receive nothing (the header says so).
//!
//! Invariant: a callback is registered from context creation until `vksplat_context_destroy`
//! returns and never called after that: callbacks run under the registry's read lock, which
//! unregistering waits for.

use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, RwLock};

use log::{Level, LevelFilter, Log, Metadata, Record};
use vksplat_abi::*;

/// A registered callback.
struct Sink {
    id: u64,
    callback: unsafe extern "C" fn(user: *mut c_void, level: i32, message: *const c_char),
    user: *mut c_void,
    min_level: i32,
}

// SAFETY: the header requires the callback to be thread-safe and `user` to be usable from any
// thread that logs; the engine never dereferences `user`.
unsafe impl Send for Sink {}
// SAFETY: as above; sinks are only read after registration.
unsafe impl Sync for Sink {}

static SINKS: RwLock<Vec<Sink>> = RwLock::new(Vec::new());
static INSTALL: Once = Once::new();
/// Whether `log` uses this module's logger (and so whose max level this module sets).
static INSTALLED: AtomicBool = AtomicBool::new(false);

struct CallbackLogger;
static LOGGER: CallbackLogger = CallbackLogger;

/// The `VKSPLAT_LOG_*` value of a `log` level.
pub fn c_level(level: Level) -> i32 {
    match level {
        Level::Error => VKSPLAT_LOG_ERROR,
        Level::Warn => VKSPLAT_LOG_WARNING,
        Level::Info => VKSPLAT_LOG_INFO,
        Level::Debug | Level::Trace => VKSPLAT_LOG_DEBUG,
    }
}

/// The most verbose `log` filter any of `sinks` wants.
fn filter(sinks: &[Sink]) -> LevelFilter {
    match sinks.iter().map(|s| s.min_level).min() {
        None => LevelFilter::Off,
        Some(l) if l <= VKSPLAT_LOG_DEBUG => LevelFilter::Debug,
        Some(VKSPLAT_LOG_INFO) => LevelFilter::Info,
        Some(VKSPLAT_LOG_WARNING) => LevelFilter::Warn,
        Some(_) => LevelFilter::Error,
    }
}

fn sinks_write() -> std::sync::RwLockWriteGuard<'static, Vec<Sink>> {
    // A panicking callback was caught; the list itself is intact.
    SINKS.write().unwrap_or_else(|p| p.into_inner())
}

/// Registers a context's callback under `id` (the context's address).
pub fn register(
    id: u64,
    callback: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
    user: *mut c_void,
    min_level: i32,
) {
    INSTALL.call_once(|| {
        // Another logger installed first wins (see the module docs).
        INSTALLED.store(log::set_logger(&LOGGER).is_ok(), Ordering::Relaxed);
    });
    let mut sinks = sinks_write();
    sinks.push(Sink {
        id,
        callback,
        user,
        min_level,
    });
    set_max_level(&sinks);
}

/// Lets through what the most verbose sink wants, unless another logger owns `log`.
fn set_max_level(sinks: &[Sink]) {
    if INSTALLED.load(Ordering::Relaxed) {
        log::set_max_level(filter(sinks));
    }
}

/// Removes the callback registered under `id`; after it returns the callback is not called
/// again (a call in progress on another thread holds the read lock this waits for).
pub fn unregister(id: u64) {
    let mut sinks = sinks_write();
    sinks.retain(|s| s.id != id);
    set_max_level(&sinks);
}

impl Log for CallbackLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        let level = c_level(metadata.level());
        let sinks = SINKS.read().unwrap_or_else(|p| p.into_inner());
        sinks.iter().any(|s| level >= s.min_level)
    }

    fn log(&self, record: &Record) {
        let level = c_level(record.level());
        let sinks = SINKS.read().unwrap_or_else(|p| p.into_inner());
        if !sinks.iter().any(|s| level >= s.min_level) {
            return;
        }
        // Module paths of the engine's own crates say nothing to a host; other targets (a
        // plugin's name) do.
        let target = record.target();
        let text = if target.starts_with("vksplat") {
            record.args().to_string()
        } else {
            format!("{target}: {}", record.args())
        };
        let message = CString::new(text.replace('\0', " ")).unwrap_or_default();
        for s in sinks.iter().filter(|s| level >= s.min_level) {
            // SAFETY: the callback and user pointer were given for this purpose and stay
            // valid until unregistered, which waits for this read lock; the message is
            // NUL-terminated and lives during the call.
            unsafe { (s.callback)(s.user, level, message.as_ptr()) };
        }
    }

    fn flush(&self) {}
}
