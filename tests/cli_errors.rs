//! How the `vksplat` binary fails and reports: closed or broken stderr/stdout, parser errors as
//! one `ERROR:` line, failure reports in the JSON and OpenJD log formats, control characters
//! in file names, broken Vulkan driver manifests, `--device gpu`, the device probed before
//! the scene is read, and `--version`.
//!
//! Runs the prebuilt `target/<profile>/vksplat` (see `support/cli.rs`) with
//! `VKSPLAT_VALIDATION=1`. Tests that need a device use [`vksplat_tests::gpu`], which fails
//! under `VKSPLAT_REQUIRE_GPU=1` when there is none; the others need no device at all.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use vksplat_io::{write_ply, Splats};
use vksplat_tests::cli::{assert_exit, command, stderr, stdout, vksplat, TempDir};
use vksplat_tests::{random_scene, Rng};

const WIDTH: u32 = 64;
const HEIGHT: u32 = 48;

fn gpu_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| vksplat_tests::gpu().is_some())
}

/// A scene and a path of `n` cameras looking down +z: (scene, cameras).
fn inputs(dir: &TempDir, n: usize) -> (String, String) {
    let splats: Splats = random_scene(&mut Rng::new(5), 200, 1);
    write_ply(&dir.join("scene.ply"), &splats).expect("write scene");
    let cams: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"width": {WIDTH}, "height": {HEIGHT}, "fx": 50, "fy": 50, "cx": 32, "cy": 24,
                    "world_to_camera": [[1,0,0,{}],[0,1,0,0],[0,0,1,0.1],[0,0,0,1]]}}"#,
                0.2 - 0.01 * i as f32
            )
        })
        .collect();
    std::fs::write(dir.join("path.json"), format!("[{}]", cams.join(","))).unwrap();
    (dir.arg("scene.ply"), dir.arg("path.json"))
}

/// A complete PNG: the signature and, at the very end, the IEND chunk.
#[track_caller]
fn assert_complete_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{}",
        path.display()
    );
    assert!(
        bytes.ends_with(b"\0\0\0\0IEND\xae\x42\x60\x82"),
        "{}: no IEND at the end",
        path.display()
    );
}

/// The write end of a pipe whose read end is already closed: every write to it fails with
/// EPIPE, as for `cmd 2>&1 | head -0` (SIGPIPE is ignored by Rust programs).
fn broken_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer.into()
}

/// Runs `vksplat args` with the given stdout and stderr.
fn run_with(args: &[&str], out: Stdio, err: Stdio, env: &[(&str, &str)]) -> Output {
    let mut cmd = command(args);
    cmd.stdout(out).stderr(err);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run vksplat")
}

/// Runs `vksplat args` with the Vulkan loader pointed at the driver manifest `manifest` only.
fn vksplat_with_driver(args: &[&str], manifest: &str) -> Output {
    command(args)
        .env("VK_DRIVER_FILES", manifest)
        .env("VK_ICD_FILENAMES", manifest)
        .env_remove("VK_ADD_DRIVER_FILES")
        .output()
        .expect("run vksplat")
}

// ---------------------------------------------------------------------------------------------
// Item 3: a closed or broken stderr never stops a render

#[test]
fn broken_stderr_does_not_abort_a_render() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("stderr");
    let (scene, cams) = inputs(&dir, 1);

    // stderr a pipe nobody reads (the reader exited before the first message).
    let png = dir.arg("a.png");
    let out = run_with(
        &["render", &scene, "--camera", &cams, "-o", &png],
        Stdio::piped(),
        broken_pipe(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", out.status);
    assert_complete_png(Path::new(&png));
    assert!(stdout(&out).contains("PROGRESS frame=0 done=1/1"));

    // `vksplat render … 2>&1 | head -1`: stdout and stderr share one pipe whose reader takes
    // one line and exits while the render goes on.
    let png = dir.arg("b.png");
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = command(&["render", &scene, "--camera", &cams, "-o", &png])
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(reader).read_line(&mut first).unwrap();
    assert!(first.starts_with("loaded 200 splats"), "{first}");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_complete_png(Path::new(&png));

    // `2>&-`: no stderr at all.
    let png = dir.arg("c.png");
    let out = Command::new("sh")
        .args(["-c", r#"exec "$0" "$@" 2>&-"#])
        .arg(vksplat_tests::cli::bin())
        .args(["render", &scene, "--camera", &cams, "-o", &png])
        .env("VKSPLAT_VALIDATION", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", out.status);
    assert_complete_png(Path::new(&png));
}

#[test]
fn sigterm_with_stderr_gone_stops_cleanly() {
    if !gpu_available() {
        return;
    }
    const N: usize = 40;
    let dir = TempDir::new("sigterm-stderr");
    let (scene, cams) = inputs(&dir, N);
    std::fs::create_dir(dir.join("out")).unwrap();
    let pattern = dir.arg("out/f.####.png");
    // --quiet: nothing goes to stderr before the signal, so the first stderr write is the
    // signal thread's own warning.
    let mut child = command(&["render", &scene, "--camera", &cams, "-o", &pattern, "-q"])
        .stdout(Stdio::piped())
        .stderr(broken_pipe())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a progress line").unwrap();
    assert!(first.starts_with("PROGRESS frame="), "{first}");
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(143),
        "{status:?}; stdout after the first line: {rest:?}"
    );
    let written: Vec<_> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        !written.is_empty() && written.len() < N,
        "{} frames written; the signal did not land mid-range",
        written.len()
    );
    let reported = 1 + rest.iter().filter(|l| l.starts_with("PROGRESS ")).count();
    assert_eq!(reported, written.len(), "{rest:?}");
    for path in &written {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        assert_complete_png(path);
    }
}

#[test]
fn broken_stdout_is_an_output_error_for_data_and_ignored_for_progress() {
    let dir = TempDir::new("stdout");
    let (scene, cams) = inputs(&dir, 1);

    // `info` prints data: losing it is exit 6, reported on stderr.
    let out = run_with(&["info", &scene], broken_pipe(), Stdio::piped(), &[]);
    assert_exit(&out, 6);
    assert!(
        stderr(&out).contains("<stdout>: cannot write"),
        "{}",
        stderr(&out)
    );
    // --help and --version: the reader chose to stop reading.
    for flag in ["--help", "--version"] {
        let out = run_with(&[flag], broken_pipe(), Stdio::piped(), &[]);
        assert_exit(&out, 0);
        assert_eq!(stderr(&out), "", "{flag}");
    }

    if !gpu_available() {
        return;
    }
    let out = run_with(&["devices"], broken_pipe(), Stdio::piped(), &[]);
    assert_exit(&out, 6);
    // Progress is for watching: the frame is still rendered and written.
    let png = dir.arg("p.png");
    let out = run_with(
        &["render", &scene, "--camera", &cams, "-o", &png],
        broken_pipe(),
        Stdio::piped(),
        &[],
    );
    assert_exit(&out, 0);
    assert_complete_png(Path::new(&png));
}

// ---------------------------------------------------------------------------------------------
// Item 9: one ERROR line for every error, reports in every log format, escaped names

/// Asserts that stderr is exactly one `ERROR: ` line and returns its text after the prefix.
#[track_caller]
fn one_error_line(out: &Output) -> String {
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line:\n{err}");
    lines[0]
        .strip_prefix("ERROR: ")
        .unwrap_or_else(|| panic!("no 'ERROR: ' prefix: {err}"))
        .to_string()
}

#[test]
fn parser_errors_are_one_error_line_and_exit_2() {
    for (args, want) in [
        (&["render", "--bogus"][..], "unexpected argument '--bogus'"),
        (&["render", "--background", "1,2"][..], "--background"),
        (&["render", "--frames", "1-x"][..], "--frames"),
        (&["render", "--width", "0"][..], "--width"),
        (&["frobnicate"][..], "unrecognized subcommand 'frobnicate'"),
        (&[][..], "a command is required"),
        (&["plugins"][..], "a command is required"),
    ] {
        let out = vksplat(args);
        assert_exit(&out, 2);
        let line = one_error_line(&out);
        assert!(line.contains(want), "{args:?}: {line}");
        assert!(
            line.contains("Usage: vksplat") || line.contains("--help"),
            "{line}"
        );
        assert_eq!(
            stdout(&out),
            "",
            "{args:?}: stdout must stay empty in text mode"
        );
    }

    // Help and version still go to stdout, exit 0, nothing on stderr.
    for args in [&["--help"][..], &["render", "--help"], &["-V"]] {
        let out = vksplat(args);
        assert_exit(&out, 0);
        assert_eq!(stderr(&out), "", "{args:?}");
        assert!(stdout(&out).starts_with("vksplat") || stdout(&out).contains("Usage: vksplat"));
    }
}

#[test]
fn usage_errors_are_reported_in_json_and_openjd() {
    let out = vksplat(&["render", "--log-format", "json", "--bogus"]);
    assert_exit(&out, 2);
    let message = one_error_line(&out);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("a JSON line");
    assert_eq!(v["event"], "error");
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["message"], message.as_str());

    let out = vksplat(&["render", "--frames", "3-", "--log-format=openjd"]);
    assert_exit(&out, 2);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].starts_with("openjd_fail: ") && lines[0].ends_with("(exit code 2)"),
        "{text}"
    );
    assert!(lines[0].contains("--frames"), "{text}");
}

#[test]
fn failures_print_openjd_fail() {
    // Exit 2 from the frame list, after parsing.
    let dir = TempDir::new("openjd-fail");
    let (scene, cams) = inputs(&dir, 2);
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--frames",
        "5",
        "-o",
        &dir.arg("f.####.png"),
        "--log-format",
        "openjd",
    ]);
    assert_exit(&out, 2);
    let text = stdout(&out);
    let fail: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("openjd_fail: "))
        .collect();
    assert_eq!(fail.len(), 1, "{text}");
    assert!(
        fail[0].contains("frame 5 is out of range") && fail[0].ends_with("(exit code 2)"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.starts_with("openjd_")), "{text}");
}

#[test]
fn control_characters_in_names_cannot_forge_lines() {
    let dir = TempDir::new("newline");
    let evil = "x\nopenjd_fail: forged\nERROR: forged\n.txt";
    let output = dir.arg(evil);
    for format in ["text", "openjd", "json"] {
        let out = vksplat(&["render", "-o", &output, "--log-format", format]);
        assert_exit(&out, 2);
        let line = one_error_line(&out);
        assert!(
            line.contains(r"x\nopenjd_fail: forged\nERROR: forged\n.txt"),
            "{line}"
        );
        let text = stdout(&out);
        match format {
            "text" => assert_eq!(text, ""),
            "openjd" => {
                assert_eq!(text.lines().count(), 1, "{text}");
                assert!(!text.contains("\nopenjd_fail: forged"), "{text}");
            }
            _ => {
                assert_eq!(text.lines().count(), 1, "{text}");
                let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
                // JSON keeps the real name, escaped by the encoding.
                assert!(v["message"].as_str().unwrap().contains(evil), "{v}");
            }
        }
    }

    if !gpu_available() {
        return;
    }
    // A frame written under such a name: progress lines stay progress lines.
    let (scene, cams) = inputs(&dir, 1);
    let name = "y\nopenjd_fail: forged\n.png";
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &dir.arg(name),
        "--log-format",
        "openjd",
    ]);
    assert_exit(&out, 0);
    assert_complete_png(&dir.join(name));
    let text = stdout(&out);
    assert!(
        text.lines()
            .all(|l| l.starts_with("openjd_progress: ") || l.starts_with("openjd_status: ")),
        "{text}"
    );
    assert!(
        stderr(&out).lines().all(|l| !l.starts_with("openjd_")),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Item 9 / 15: drivers and devices

#[test]
fn broken_driver_manifests_are_exit_5() {
    let dir = TempDir::new("drivers");
    std::fs::write(
        dir.join("broken.json"),
        r#"{"file_format_version": "1.0.0", "ICD": {"#,
    )
    .unwrap();
    std::fs::write(dir.join("empty.json"), "").unwrap();
    std::fs::write(
        dir.join("nolib.json"),
        r#"{"file_format_version": "1.0.0",
            "ICD": {"library_path": "/nonexistent/libvulkan_nothing.so", "api_version": "1.3.0"}}"#,
    )
    .unwrap();
    // A library that exists but is no Vulkan driver.
    std::fs::write(dir.join("notvulkan.so"), b"\x7fELF not really").unwrap();
    std::fs::write(
        dir.join("notvulkan.json"),
        format!(
            r#"{{"file_format_version": "1.0.0",
                "ICD": {{"library_path": "{}", "api_version": "1.3.0"}}}}"#,
            dir.arg("notvulkan.so")
        ),
    )
    .unwrap();
    // An unreadable scene, so that only the device decides the exit code.
    let missing_scene = dir.arg("no-such-scene.ply");
    for manifest in [
        "broken.json",
        "empty.json",
        "nolib.json",
        "notvulkan.json",
        "missing.json",
    ] {
        let path = dir.arg(manifest);
        let out = vksplat_with_driver(&["devices"], &path);
        assert_exit(&out, 5);
        let line = one_error_line(&out);
        assert!(
            line.contains("VK_DRIVER_FILES=") && line.contains(manifest),
            "{manifest}: {line}"
        );

        // The device is probed before the scene is read: exit 5, not 3.
        let out = vksplat_with_driver(&["render", &missing_scene, "-o", &dir.arg("x.png")], &path);
        assert_exit(&out, 5);
        let line = one_error_line(&out);
        assert!(line.contains(manifest), "{manifest}: {line}");
    }

    // In JSON, the failure before the render is an error event with the code.
    let out = vksplat_with_driver(
        &[
            "render",
            &missing_scene,
            "-o",
            &dir.arg("x.png"),
            "--log-format",
            "json",
        ],
        &dir.arg("broken.json"),
    );
    assert_exit(&out, 5);
    let last: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().expect("an event")).unwrap();
    assert_eq!(last["event"], "error");
    assert_eq!(last["exit_code"], 5);
}

#[test]
fn device_gpu_refuses_software_devices() {
    if !gpu_available() {
        return;
    }
    let out = vksplat(&["devices", "--json"]);
    assert_exit(&out, 0);
    let devices: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let software = |d: &serde_json::Value| {
        let name = d["name"].as_str().unwrap().to_lowercase();
        d["kind"] == "cpu"
            || ["llvmpipe", "lavapipe", "swiftshader", "softpipe"]
                .iter()
                .any(|s| name.contains(s))
    };
    let hardware = devices
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["usable"] == true && !software(d));

    let dir = TempDir::new("device-gpu");
    let (scene, cams) = inputs(&dir, 1);
    let png = dir.arg("g.png");
    let render = vksplat(&[
        "render", &scene, "--camera", &cams, "-o", &png, "--device", "gpu",
    ]);
    let bench = vksplat(&[
        "bench", &scene, "--camera", &cams, "--frames", "1", "--warmup", "0", "--device", "gpu",
    ]);
    if hardware {
        assert_exit(&render, 0);
        assert_complete_png(Path::new(&png));
        assert_exit(&bench, 0);
    } else {
        for out in [&render, &bench] {
            assert_exit(out, 5);
            let line = one_error_line(out);
            assert!(line.contains("hardware GPU"), "{line}");
            // It lists what it found.
            let first = devices[0]["name"].as_str().unwrap();
            assert!(line.contains(first), "{line}");
        }
        assert!(!Path::new(&png).exists());
        // The scene was never read: no "loaded" note.
        assert!(!stderr(&render).contains("loaded"), "{}", stderr(&render));
    }
    let help = stdout(&vksplat(&["render", "--help"]));
    assert!(help.contains("auto|gpu|cpu"), "{help}");
}

// ---------------------------------------------------------------------------------------------
// Item 17: --version

#[test]
fn version_names_commit_and_build_date() {
    let out = vksplat(&["--version"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let line = text.trim_end();
    assert_eq!(text.lines().count(), 1, "{text}");
    // vksplat 0.1.0 (git 1a2b3c4d5e6f[-dirty], built 2026-11-27)
    let rest = line
        .strip_prefix(&format!("vksplat {} (git ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let (hash, date) = rest
        .strip_suffix(')')
        .and_then(|r| r.split_once(", built "))
        .unwrap_or_else(|| panic!("{line}"));
    let b = date.as_bytes();
    assert!(
        date.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && date.chars().filter(char::is_ascii_digit).count() == 8,
        "{line}"
    );
    let (month, day) = (&date[5..7], &date[8..10]);
    assert!(
        ("01"..="12").contains(&month) && ("01"..="31").contains(&day),
        "{line}"
    );
    assert!(date >= "2025-01-01", "{line}");

    // The commit of this checkout (or `unknown` outside git).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let head = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(
            hash.trim_end_matches("-dirty"),
            head,
            "{line} (rebuild with `cargo build --workspace` after committing)"
        ),
        None => assert_eq!(hash, "unknown", "{line}"),
    }

    // -V is the same.
    assert_eq!(stdout(&vksplat(&["-V"])), text);
}
