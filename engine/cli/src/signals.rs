//! Stop signals (SIGINT, SIGTERM, SIGHUP) and SIGXFSZ, for every command that writes files.
//!
//! * SIGHUP (the terminal or the controlling session went away) is treated exactly like
//!   SIGTERM: a request to stop. The exit code is always 128 + the signal number: 130 for
//!   SIGINT, 143 for SIGTERM, 129 for SIGHUP.
//! * `render` ([`OnStop::Finish`]): the first stop signal asks the render loop to stop: no new
//!   frame is started, the frame being rendered and the frames being written are finished
//!   (each is written atomically, so every file on disk is complete), then the process exits
//!   with 128 + the signal. A `--skip-existing` rerun completes the set. A second signal aborts
//!   at once, as below.
//! * `convert`, `bench` ([`OnStop::Abort`]), and a second signal to `render`: the temporary
//!   files of the writes in progress are removed (`vksplat_io::remove_temp_files_in_flight`,
//!   which also keeps any new one from being created) and the process exits with 128 + the
//!   signal at once. Finished files stay; no partial file is ever left under an output's name
//!   or as a temporary file.
//! * SIGXFSZ (a file-size limit, `ulimit -f`) is caught so that the write fails with EFBIG and
//!   is reported as an output error (exit 6, the temporary file removed) instead of killing
//!   the process.
//!
//! Messages go through [`say!`], which never fails, so a signal arriving while stderr is closed
//! still ends the process with its code.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::stderr::say;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

/// What the first stop signal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStop {
    /// Finish the work in flight, then stop ([`stop_requested`] tells the loop).
    Finish,
    /// Remove the temporary files being written and exit now.
    Abort,
}

/// The first stop signal received, 0 if none.
static STOP: AtomicI32 = AtomicI32::new(0);

/// Installs the handlers (once per process). Failure to install is not fatal: the command
/// still runs, only without graceful stops.
pub fn install(on_stop: OnStop) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // A handler that only sets a flag: the signal no longer kills the process, and the
        // write that exceeded the limit fails with EFBIG.
        if let Err(e) = signal_hook::flag::register(SIGXFSZ, Arc::new(AtomicBool::new(false))) {
            say!("warning: cannot catch SIGXFSZ: {e}");
        }
        match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                let spawned = std::thread::Builder::new()
                    .name("vksplat-signals".into())
                    .spawn(move || {
                        for sig in signals.forever() {
                            on_signal(sig, on_stop);
                        }
                    });
                if let Err(e) = spawned {
                    say!("warning: cannot start the signal thread: {e}");
                }
            }
            Err(e) => say!("warning: cannot install signal handlers: {e}"),
        }
    });
}

fn on_signal(sig: i32, on_stop: OnStop) {
    let name = signal_name(sig);
    let first = STOP
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    match (on_stop, first) {
        (OnStop::Finish, true) => say!(
            "warning: {name} received: finishing the frames in flight, then stopping (send it \
             again to abort now)"
        ),
        (OnStop::Finish, false) => abort(sig, &format!("{name} received twice: aborted")),
        (OnStop::Abort, _) => abort(
            sig,
            &format!("{name} received: stopped; no partial or temporary file is left"),
        ),
    }
}

/// Removes the temporary files in flight and exits with the signal's code. The exit code is
/// that of the first stop signal, so that the code does not depend on which one aborted.
fn abort(sig: i32, message: &str) -> ! {
    vksplat_io::remove_temp_files_in_flight();
    say!("ERROR: {message}");
    let first = stop_requested().unwrap_or(sig);
    std::process::exit(exit_code(first));
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
        SIGHUP => "SIGHUP",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        assert_eq!(exit_code(SIGHUP), 129);
        assert_eq!(exit_code(SIGINT), 130);
        assert_eq!(exit_code(SIGTERM), 143);
        assert_eq!(signal_name(SIGHUP), "SIGHUP");
    }
}
