//! SIGINT/SIGTERM handling for frame ranges, and SIGXFSZ.
//!
//! * The first SIGINT or SIGTERM asks the render loop to stop: no new frame is started, the
//!   frame being rendered and the frames being written are finished (each is written
//!   atomically, so every file on disk is complete), then the process exits with 128 + the
//!   signal number (130 for SIGINT, 143 for SIGTERM). A `--skip-existing` rerun completes the
//!   set.
//! * A second signal aborts at once: the temporary files of writes in progress are removed and
//!   the process exits with the same code. Finished files stay; no partial file is ever left
//!   under a frame's name.
//! * SIGXFSZ (a file-size limit, `ulimit -f`) is caught so that the write fails with EFBIG and
//!   is reported as an output error (exit 6) instead of killing the process.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::stderr::say;
use signal_hook::consts::{SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

/// The first stop signal received, 0 if none.
static STOP: AtomicI32 = AtomicI32::new(0);

/// Temporary files of writes in progress, removed on an abort.
fn in_flight() -> &'static Mutex<Vec<PathBuf>> {
    static FILES: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    FILES.get_or_init(|| Mutex::new(Vec::new()))
}

/// Installs the handlers (once per process). Failure to install is not fatal: the render
/// still runs, only without graceful stops.
pub fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // An empty handler: the signal no longer kills the process, write() returns EFBIG.
        // SAFETY: the handler does nothing, which is async-signal-safe.
        let _ = unsafe { signal_hook::low_level::register(SIGXFSZ, || {}) };
        match Signals::new([SIGINT, SIGTERM]) {
            Ok(mut signals) => {
                std::thread::Builder::new()
                    .name("vksplat-signals".into())
                    .spawn(move || {
                        for sig in signals.forever() {
                            let name = signal_name(sig);
                            if STOP
                                .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
                                .is_ok()
                            {
                                say!(
                                    "warning: {name} received: finishing the frames in flight, \
                                     then stopping (send it again to abort now)"
                                );
                            } else {
                                let files = in_flight().lock().map(|f| f.clone());
                                for f in files.unwrap_or_default() {
                                    let _ = std::fs::remove_file(f);
                                }
                                say!("ERROR: {name} received twice: aborted");
                                std::process::exit(exit_code(sig));
                            }
                        }
                    })
                    .ok();
            }
            Err(e) => say!("warning: cannot install signal handlers: {e}"),
        }
    });
}

/// The stop signal received so far, if any.
pub fn stop_requested() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The process exit code after a stop signal: 128 + the signal number.
pub fn exit_code(sig: i32) -> i32 {
    crate::exit::INTERRUPTED_BASE + sig
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// Registers a temporary file being written; the guard unregisters it.
pub fn track_temp(path: PathBuf) -> TempGuard {
    if let Ok(mut f) = in_flight().lock() {
        f.push(path.clone());
    }
    TempGuard(path)
}

pub struct TempGuard(PathBuf);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Ok(mut f) = in_flight().lock() {
            if let Some(i) = f.iter().position(|p| *p == self.0) {
                f.swap_remove(i);
            }
        }
    }
}
