//! Running the `vksplat` binary from integration tests.
//!
//! The binary is `target/<profile>/vksplat`, next to the test's `deps/` directory. Cargo does
//! not build another package's binary for an integration test, so a missing binary is built
//! here with `cargo build --workspace` (same profile). `./tools/test.sh` builds the workspace
//! first, so the binary is always current there; run `cargo build --workspace` yourself before
//! running one test file by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// target/<profile>, the directory above the running test binary's `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Runs `cargo build --workspace` in the tests' profile, so the binaries, plugins and libraries
/// the tests load exist. Always the whole workspace: `-p` would resolve features for a smaller
/// package set (without the tests' `test-hooks`), rebuild the engine with them and overwrite
/// the workspace-built artefacts, costing minutes per test binary. After the suite's
/// `cargo build --workspace --all-targets` this is a no-op.
pub fn build_workspace() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-q", "--workspace"]);
    if profile_dir().file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build --workspace failed");
}

/// The `vksplat` binary, built on first use if it is missing.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = profile_dir().join(format!("vksplat{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            build_workspace();
            assert!(
                bin.exists(),
                "{} still missing after the build",
                bin.display()
            );
        }
        bin
    })
}

/// A camera JSON object for CLI tests: a `width`×`height` pinhole with focal length `f` pixels
/// on both axes, its principal point at the image centre, no rotation and the `world_to_camera`
/// translation `t` (the camera sits at −t). No `name` key when `name` is empty.
pub fn camera_json(name: &str, width: u32, height: u32, f: f64, t: [f32; 3]) -> String {
    let name = if name.is_empty() {
        String::new()
    } else {
        format!(r#""name": "{name}", "#)
    };
    format!(
        r#"{{{name}"width": {width}, "height": {height}, "fx": {f}, "fy": {f}, "cx": {}, "cy": {},
            "world_to_camera": [[1,0,0,{}],[0,1,0,{}],[0,0,1,{}],[0,0,0,1]]}}"#,
        width as f32 / 2.0,
        height as f32 / 2.0,
        t[0],
        t[1],
        t[2]
    )
}

/// A command running the binary with the validation layers on.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    // A fixed EXR capDate (see README "Determinism"), so that reruns give bit-identical files.
    cmd.args(args)
        .env("VKSPLAT_VALIDATION", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    cmd
}

/// Runs the binary with the validation layers on and waits for it.
pub fn vksplat(args: &[&str]) -> Output {
    command(args).output().expect("run vksplat")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts the exit code, no panic, no internal or validation error, and, when failing, an
/// `ERROR: ` line (clap's own usage errors, exit 2, start with `error: `).
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status {:?}, expected {code}\nstderr:\n{err}\nstdout:\n{}",
        out.status,
        stdout(out)
    );
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert!(!err.contains("internal error"), "internal error:\n{err}");
    assert!(
        !err.contains("validation error"),
        "validation error:\n{err}"
    );
    if code != 0 {
        assert!(
            err.lines()
                .any(|l| l.starts_with("ERROR: ") || (code == 2 && l.starts_with("error: "))),
            "no 'ERROR: ' line:\n{err}"
        );
    }
}

/// A scratch directory under the system temp dir, removed on drop. Names carry the process id
/// and a counter, so parallel tests and test binaries never share one.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("vksplat-test-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// `self/name` as a string argument.
    pub fn arg(&self, name: &str) -> String {
        self.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `vksplat devices` finds a usable device. Without one, GPU tests return early,
/// unless `VKSPLAT_REQUIRE_GPU=1` (CI), where this panics: a missing device is never a pass.
pub fn gpu_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let required = std::env::var("VKSPLAT_REQUIRE_GPU").is_ok_and(|v| v == "1");
        let out = vksplat(&["devices"]);
        match out.status.code() {
            Some(0) => true,
            Some(5) if !required => {
                eprintln!("skipping GPU tests: {}", stderr(&out).trim());
                false
            }
            _ => panic!(
                "vksplat devices failed ({:?}), VKSPLAT_REQUIRE_GPU={required}:\n{}",
                out.status,
                stderr(&out)
            ),
        }
    })
}

/// Runs `cmd` (stdout and stderr captured) and waits at most `limit`: a command still running
/// then is killed and the test fails, so a hang (a FIFO opened for writing) cannot block the
/// suite.
#[track_caller]
pub fn output_within(cmd: &mut Command, limit: std::time::Duration) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vksplat");
    // Drained on threads, so that a chatty child never blocks on a full pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out_thread = drain(Box::new(child.stdout.take().expect("stdout")));
    let err_thread = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for vksplat") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = err_thread.join().unwrap_or_default();
            panic!(
                "still running after {limit:?}; killed\nstderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}
