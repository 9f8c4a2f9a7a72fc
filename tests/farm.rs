//! Render-farm workflow of `vksplat render`: frame lists, output patterns, camera paths,
//! `--orbit`, progress on stdout, `--skip-existing` and atomic output, SIGTERM mid-range,
//! unwritable and full output, determinism across runs and chunkings, the OpenJD template run
//! with `openjd run`, and the Flamenco job type.
//!
//! Runs the prebuilt `target/<profile>/vksplat` (built here if missing; `cargo build
//! --workspace` first to test a fresh one) with `VKSPLAT_VALIDATION=1`. Without a usable Vulkan
//! device the GPU tests are skipped, unless `VKSPLAT_REQUIRE_GPU=1` (CI), where they fail; the
//! OpenJD test likewise fails under `VKSPLAT_REQUIRE_GPU=1` when `openjd` is not on PATH.
//! Images are tiny (64×48) so the whole file runs in seconds on lavapipe.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use vksplat_io::{read_exr, write_ply, Splats};
use vksplat_tests::cli::{self, assert_exit, bin, command, stderr, stdout, vksplat, TempDir};
use vksplat_tests::{random_scene, Rng};

const WIDTH: u32 = 64;
const HEIGHT: u32 = 48;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Asserts the exit code, no panic, no validation error, an `ERROR: ` line when failing.
#[track_caller]
fn expect_code(out: &Output, code: i32) -> String {
    assert_exit(out, code);
    stderr(out)
}

fn required() -> bool {
    std::env::var("VKSPLAT_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

fn gpu_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let out = vksplat(&["devices"]);
        match out.status.code() {
            Some(0) => true,
            Some(5) if !required() => {
                eprintln!("skipping GPU tests: {}", stderr(&out).trim());
                false
            }
            _ => panic!(
                "vksplat devices failed ({:?}), VKSPLAT_REQUIRE_GPU={}:\n{}",
                out.status,
                required(),
                stderr(&out)
            ),
        }
    })
}

/// Explicit camera JSON at `position`, looking down +z.
fn camera_json(position: [f32; 3]) -> String {
    cli::camera_json("", WIDTH, HEIGHT, 50.0, position.map(|p| -p))
}

/// A scene and a path of `n` cameras sliding along x: (scene, cameras).
fn inputs(dir: &TempDir, n: usize) -> (String, String) {
    let splats: Splats = random_scene(&mut Rng::new(21), 300, 1);
    write_ply(&dir.join("scene.ply"), &splats).expect("write scene");
    let cams: Vec<String> = (0..n)
        .map(|i| camera_json([0.02 * i as f32 - 0.2, 0.0, -0.1]))
        .collect();
    std::fs::write(dir.join("path.json"), format!("[{}]", cams.join(","))).unwrap();
    (dir.arg("scene.ply"), dir.arg("path.json"))
}

/// Files of a directory (name → bytes), hidden files included.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    files(dir).into_keys().collect()
}

/// `PROGRESS` lines of stdout as (frame, done, total, status).
fn progress_lines(out: &str) -> Vec<(i64, usize, usize, String)> {
    out.lines()
        .filter(|l| l.starts_with("PROGRESS "))
        .map(|l| {
            let kv: BTreeMap<&str, &str> = l[9..]
                .split(' ')
                .map(|p| p.split_once('=').expect("key=value"))
                .collect();
            let (done, total) = kv["done"].split_once('/').unwrap();
            (
                kv["frame"].parse().unwrap(),
                done.parse().unwrap(),
                total.parse().unwrap(),
                kv["status"].to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Frame ranges, patterns, progress, metadata

#[test]
fn range_with_pattern_progress_and_metadata() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("range");
    let (scene, cams) = inputs(&dir, 6);
    std::fs::create_dir(dir.join("out")).unwrap();
    let pattern = dir.arg("out/shot.####.exr");
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--frames",
        "1,3-5:2",
        "--first-frame",
        "0",
        "-o",
        &pattern,
    ]);
    expect_code(&out, 0);
    let text = stdout(&out);
    // Exactly one PROGRESS and one ALF_PROGRESS line per frame and nothing else on stdout.
    let lines = progress_lines(&text);
    assert_eq!(lines.len(), 3, "{text}");
    let mut frames: Vec<i64> = lines.iter().map(|l| l.0).collect();
    frames.sort();
    assert_eq!(frames, [1, 3, 5]);
    for (i, (_, done, total, status)) in lines.iter().enumerate() {
        assert_eq!((*done, *total, status.as_str()), (i + 1, 3, "written"));
    }
    let alf: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("ALF_PROGRESS"))
        .collect();
    assert_eq!(
        alf,
        ["ALF_PROGRESS 33%", "ALF_PROGRESS 66%", "ALF_PROGRESS 100%"]
    );
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.contains("PROGRESS frame=") && text.contains(" pct=33.3 "),
        "{text}"
    );

    assert_eq!(
        names(&dir.join("out")),
        ["shot.0001.exr", "shot.0003.exr", "shot.0005.exr"]
    );
    let img = read_exr(&dir.join("out/shot.0003.exr")).unwrap();
    let channels: Vec<&str> = img.channels.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(channels, ["A", "B", "G", "R", "Z"]);
    assert_eq!(img.attribute("frame"), Some("3"));
    assert_eq!(img.attribute("camera"), Some("camera 3"));
    assert_eq!(img.attribute("camera_source"), Some(cams.as_str()));
    assert_eq!(img.attribute("camera_size"), Some("64x48"));
    assert_eq!(img.attribute("camera_intrinsics"), Some("50 50 32 24"));
    let w2c = img.attribute("camera_world_to_camera").unwrap();
    assert_eq!(w2c.split(' ').count(), 16, "{w2c}");
    assert!(w2c.starts_with("1 0 0 0.14"), "{w2c}");
    let cmd = img.attribute("command_line").unwrap();
    assert!(
        cmd.starts_with("vksplat render ")
            && cmd.contains(" --frames 3 ")
            && cmd.contains(&pattern)
            && cmd.contains("--mode classic"),
        "{cmd}"
    );
    for attr in ["vksplat_version", "device", "mode", "scene", "background"] {
        assert!(img.attribute(attr).is_some(), "attribute {attr} missing");
    }
    // Frames differ (the camera moves) and see the scene.
    let a = read_exr(&dir.join("out/shot.0001.exr")).unwrap();
    assert_ne!(a.channel("R"), img.channel("R"));
    assert!(img.channel("A").unwrap().iter().any(|&v| v > 0.1));

    // printf and brace spellings, PNG, default frames = the whole path.
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--first-frame",
        "10",
        "-o",
        &dir.arg("p.%03d.png"),
    ]);
    expect_code(&out, 0);
    assert_eq!(progress_lines(&stdout(&out)).len(), 6);
    for f in 10..16 {
        assert!(dir.join(&format!("p.{f:03}.png")).is_file(), "frame {f}");
    }
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--frames",
        "2",
        "-o",
        &dir.arg("b.{frame:05}.png"),
    ]);
    expect_code(&out, 0);
    assert!(dir.join("b.00002.png").is_file());
}

#[test]
fn json_and_openjd_log_formats() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("json");
    let (scene, cams) = inputs(&dir, 3);
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &dir.arg("j.####.png"),
        "--log-format",
        "json",
    ]);
    expect_code(&out, 0);
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is JSON"))
        .collect();
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0]["event"], "start");
    assert_eq!(events[0]["total"], 3);
    for (i, e) in events[1..4].iter().enumerate() {
        assert_eq!(e["event"], "frame");
        assert_eq!(e["done"], i + 1);
        assert_eq!(e["status"], "written");
        assert!(e["render_ms"].as_f64().unwrap() > 0.0);
        assert!(e["path"].as_str().unwrap().ends_with(".png"));
    }
    assert_eq!(events[4]["event"], "end");
    assert_eq!(events[4]["written"], 3);

    // A failure is an error event on stdout, with the exit code.
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--frames",
        "7",
        "-o",
        &dir.arg("j.####.png"),
        "--log-format",
        "json",
    ]);
    expect_code(&out, 2);
    let last: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "error");
    assert_eq!(last["exit_code"], 2);

    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &dir.arg("o.####.png"),
        "--log-format",
        "openjd",
        "--frames",
        "0-1",
    ]);
    expect_code(&out, 0);
    let text = stdout(&out);
    let progress: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("openjd_progress: "))
        .collect();
    assert_eq!(
        progress,
        ["openjd_progress: 50.0", "openjd_progress: 100.0"]
    );
    assert!(text.lines().all(|l| l.starts_with("openjd_")), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn bit_identical_across_runs_chunks_and_pipelines() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("determinism");
    let (scene, cams) = inputs(&dir, 6);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let pattern = dir.arg("out/f.####.exr");
    let run = |frames: &str, extra: &[&str]| {
        let mut args = vec![
            "render",
            &scene,
            "--camera",
            &cams,
            "--frames",
            frames,
            "-o",
            &pattern,
            "--mode",
            "antialiased",
        ];
        args.extend_from_slice(extra);
        expect_code(&vksplat(&args), 0);
    };
    // One chunk, overlapped pipeline.
    run("0-5", &[]);
    let reference = files(&out_dir);
    assert_eq!(reference.len(), 6);
    // The same command again, overwriting: identical bytes.
    run("0-5", &["--overwrite"]);
    assert_eq!(files(&out_dir), reference, "rerun differs");
    // Two chunks, serial pipeline, into an emptied directory: identical bytes.
    for f in reference.keys() {
        std::fs::remove_file(out_dir.join(f)).unwrap();
    }
    run("0-2", &["--write-threads", "0"]);
    run("3-5", &["--write-threads", "1", "--log-format", "json"]);
    assert_eq!(files(&out_dir), reference, "chunked render differs");
    // Reverse order and a single frame alone.
    for f in reference.keys() {
        std::fs::remove_file(out_dir.join(f)).unwrap();
    }
    run("5-0", &[]);
    run("4", &["--overwrite"]);
    assert_eq!(files(&out_dir), reference, "reverse order differs");
    // Several views per GPU submission (--all-cameras batches 4, then 2): identical bytes.
    for f in reference.keys() {
        std::fs::remove_file(out_dir.join(f)).unwrap();
    }
    run("0-5", &["--all-cameras"]);
    assert_eq!(files(&out_dir), reference, "--all-cameras differs");
    run("0-5", &["--batch", "5", "--overwrite"]);
    assert_eq!(files(&out_dir), reference, "--batch 5 differs");
}

// ---------------------------------------------------------------------------------------------
// Resuming: --skip-existing, SIGTERM

#[test]
fn sigterm_mid_range_then_skip_existing_completes_identically() {
    if !gpu_available() {
        return;
    }
    const N: usize = 60;
    let dir = TempDir::new("sigterm");
    let (scene, cams) = inputs(&dir, N);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let pattern = dir.arg("out/s.####.exr");
    let args = ["render", &scene, "--camera", &cams, "-o", &pattern];

    // Reference: the whole range, uninterrupted.
    expect_code(&vksplat(&args), 0);
    let reference = files(&out_dir);
    assert_eq!(reference.len(), N);
    for f in reference.keys() {
        std::fs::remove_file(out_dir.join(f)).unwrap();
    }

    // SIGTERM as soon as the first frame is reported.
    let mut child = command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a progress line").unwrap();
    // Two writer threads may finish frames out of order: any frame may be reported first.
    assert!(first.starts_with("PROGRESS frame="), "{first}");
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "stderr:\n{err}");
    assert!(
        err.contains("SIGTERM") && err.contains("--skip-existing"),
        "{err}"
    );
    let partial = files(&out_dir);
    assert!(
        !partial.is_empty() && partial.len() < N,
        "{} frames written; the signal did not land mid-range",
        partial.len()
    );
    // Every file reported is complete and identical to the reference; no temp file is left.
    let reported = 1 + progress_lines(&rest.join("\n")).len();
    assert_eq!(reported, partial.len(), "{rest:?}");
    for (name, bytes) in &partial {
        assert!(!name.starts_with('.'), "leftover {name}");
        assert!(reference.get(name) == Some(bytes), "{name} differs");
    }

    // A file truncated by something else is not trusted.
    let (victim, bytes) = partial.iter().next().unwrap();
    std::fs::write(out_dir.join(victim), &bytes[..bytes.len() / 2]).unwrap();

    let out = vksplat(&[&args[..], &["--skip-existing"]].concat());
    let err = expect_code(&out, 0);
    assert!(
        err.contains(victim.as_str()) && err.contains("incomplete"),
        "{err}"
    );
    let lines = progress_lines(&stdout(&out));
    assert_eq!(lines.len(), N);
    let skipped = lines.iter().filter(|l| l.3 == "skipped").count();
    assert_eq!(skipped, partial.len() - 1);
    assert_eq!(files(&out_dir), reference, "resumed set differs");

    // Everything there: nothing is rendered (and no device is needed).
    let out = vksplat(
        &[
            &args[..],
            &["--skip-existing", "--device", "no-such-device"],
        ]
        .concat(),
    );
    expect_code(&out, 0);
    assert!(progress_lines(&stdout(&out))
        .iter()
        .all(|l| l.3 == "skipped"));
}

// ---------------------------------------------------------------------------------------------
// Camera paths

#[test]
fn nerfstudio_camera_path_and_orbit() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("paths");
    let (scene, _) = inputs(&dir, 1);
    // camera_to_world in OpenGL axes: a camera at the origin looking down world +z is the
    // identity rotated 180° about y.
    let entry = |x: f32| {
        format!(
            r#"{{"camera_to_world": [-1,0,0,{x}, 0,1,0,0, 0,0,-1,0, 0,0,0,1], "fov": 50,
                "aspect": 1.333}}"#
        )
    };
    std::fs::write(
        dir.join("camera_path.json"),
        format!(
            r#"{{"camera_type": "perspective", "render_width": 40, "render_height": 30,
                "fps": 24, "seconds": 1, "keyframes": [{{}}, {{}}],
                "camera_path": [{}, {}]}}"#,
            entry(0.0),
            entry(0.1)
        ),
    )
    .unwrap();
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &dir.arg("camera_path.json"),
        "-o",
        &dir.arg("ns.####.exr"),
    ]);
    expect_code(&out, 0);
    let a = read_exr(&dir.join("ns.0000.exr")).unwrap();
    let b = read_exr(&dir.join("ns.0001.exr")).unwrap();
    assert_eq!((a.width, a.height), (40, 30));
    assert!(
        a.channel("A").unwrap().iter().any(|&v| v > 0.1),
        "nerfstudio camera sees nothing"
    );
    assert_ne!(a.channel("R"), b.channel("R"));
    assert_eq!(a.attribute("camera"), Some("camera_path 0"));

    let out = vksplat(&[
        "render",
        &scene,
        "--orbit",
        "3",
        "--width",
        "32",
        "-o",
        &dir.arg("orbit.####.exr"),
    ]);
    expect_code(&out, 0);
    let frames: Vec<_> = (0..3)
        .map(|i| read_exr(&dir.join(&format!("orbit.{i:04}.exr"))).unwrap())
        .collect();
    assert_eq!((frames[0].width, frames[0].height), (32, 18));
    for f in &frames {
        assert!(
            f.channel("A").unwrap().iter().any(|&v| v > 0.1),
            "orbit frame sees nothing"
        );
    }
    assert_ne!(frames[0].channel("R"), frames[1].channel("R"));
    assert_eq!(frames[1].attribute("camera"), Some("orbit 1/3"));
    // --orbit with one frame selected by --camera-index.
    let out = vksplat(&[
        "render",
        &scene,
        "--orbit",
        "3,2.5,0.5",
        "--up",
        "0,-1,0",
        "--camera-index",
        "2",
        "--width",
        "32",
        "-o",
        &dir.arg("one.exr"),
    ]);
    expect_code(&out, 0);
    assert_eq!(
        read_exr(&dir.join("one.exr")).unwrap().attribute("frame"),
        Some("2")
    );
}

#[test]
fn bad_camera_paths() {
    let dir = TempDir::new("badpaths");
    let (scene, _) = inputs(&dir, 1);
    for (name, json, code, want) in [
        (
            "zero.json",
            r#"{"render_width": 8, "render_height": 8, "keyframes": [], "camera_path": []}"#,
            3,
            "zero keyframes",
        ),
        (
            "fisheye.json",
            r#"{"camera_type": "fisheye", "render_width": 8, "render_height": 8,
                "camera_path": [{"camera_to_world": [1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1], "fov": 50}]}"#,
            3,
            "fisheye",
        ),
        ("empty.json", "[]", 3, "empty"),
    ] {
        std::fs::write(dir.join(name), json).unwrap();
        let out = vksplat(&[
            "render",
            &scene,
            "--camera",
            &dir.arg(name),
            "-o",
            &dir.arg("x.####.png"),
        ]);
        let err = expect_code(&out, code);
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
    assert!(!names(&dir.0).iter().any(|n| n.ends_with(".png")));
    for bad in ["0", "x", "3,-1", "3,1,2,4"] {
        let out = vksplat(&["render", &scene, "--orbit", bad, "-o", &dir.arg("x.png")]);
        let err = expect_code(&out, 2);
        assert!(err.contains("--orbit"), "{bad}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad frame lists and outputs (no GPU needed: they fail before the device is opened)

#[test]
fn malformed_or_empty_frame_lists_are_usage_errors() {
    let dir = TempDir::new("frames");
    let (scene, cams) = inputs(&dir, 4);
    let pattern = dir.arg("f.####.png");
    for frames in [
        "", " ", "1-", "a", "1-3:0", "1,,2", "1-3x", "2.5", "1-3z2", "-",
    ] {
        let out = vksplat(&[
            "render",
            &scene,
            "--camera",
            &cams,
            &format!("--frames={frames}"),
            "-o",
            &pattern,
        ]);
        let err = expect_code(&out, 2);
        assert!(err.contains("--frames"), "{frames:?}: {err}");
    }
    // Out of the path's range (4 cameras: frames 0..=3, or 1..=4 with --first-frame 1).
    for (frames, first) in [("0-4", "0"), ("0", "1"), ("-1", "0")] {
        let out = vksplat(&[
            "render",
            &scene,
            "--camera",
            &cams,
            "--frames",
            frames,
            "--first-frame",
            first,
            "-o",
            &pattern,
        ]);
        let err = expect_code(&out, 2);
        assert!(
            err.contains("out of range") && err.contains("path.json"),
            "{frames}: {err}"
        );
    }
    // Several frames into one file name.
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--frames",
        "0-1",
        "-o",
        &dir.arg("one.png"),
    ]);
    let err = expect_code(&out, 2);
    assert!(err.contains("####"), "{err}");
    // --frames and --camera-index together; --overwrite and --skip-existing together.
    for extra in [
        &["--frames", "1", "--camera-index", "1"][..],
        &["--overwrite", "--skip-existing"],
        &["--log-format", "xml"],
        &["--write-threads", "99"],
    ] {
        let args: Vec<&str> = ["render", &scene, "--camera", &cams, "-o", &pattern]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        expect_code(&vksplat(&args), 2);
    }
    assert!(!names(&dir.0).iter().any(|n| n.ends_with(".png")));
}

/// A directory no new file can be created in, also for root (who ignores permission bits):
/// a read-only tmpfs when mounting works, else mode 0555, else /proc.
struct ReadOnlyDir {
    path: PathBuf,
    mounted: bool,
}

impl ReadOnlyDir {
    fn new(dir: &TempDir) -> Self {
        let path = dir.join("ro");
        std::fs::create_dir(&path).unwrap();
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !is_root {
            let ok = Command::new("chmod").arg("555").arg(&path).status();
            assert!(ok.unwrap().success());
            return ReadOnlyDir {
                path,
                mounted: false,
            };
        }
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            ReadOnlyDir {
                path,
                mounted: true,
            }
        } else {
            ReadOnlyDir {
                path: PathBuf::from("/proc/self/fdinfo"),
                mounted: false,
            }
        }
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.path).status();
        } else {
            let _ = Command::new("chmod").arg("755").arg(&self.path).status();
        }
    }
}

#[test]
fn unwritable_output_directory_fails_before_rendering() {
    let dir = TempDir::new("readonly");
    let (scene, cams) = inputs(&dir, 3);
    let ro = ReadOnlyDir::new(&dir);
    let pattern = ro.path.join("f.####.exr").to_string_lossy().into_owned();
    let out = vksplat(&["render", &scene, "--camera", &cams, "-o", &pattern]);
    let err = expect_code(&out, 6);
    assert!(
        err.contains(&*ro.path.to_string_lossy()) && err.contains("not writable"),
        "{err}"
    );
    // Before rendering: the scene was not even loaded, nothing was reported.
    assert!(!err.contains("loaded"), "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn file_size_limit_is_a_clean_output_error() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("ulimit");
    let (scene, cams) = inputs(&dir, 3);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // 64x48 EXR frames are ~62 KB; the limit is 40 blocks (20 or 40 KB, as the shell counts).
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -f 40 && exec "$0" "$@""#)
        .arg(bin())
        .args(["render", &scene, "--camera", &cams, "-o"])
        .arg(out_dir.join("f.####.exr"))
        .env("VKSPLAT_VALIDATION", "1")
        .output()
        .unwrap();
    let err = expect_code(&out, 6);
    assert!(
        err.contains("f.0000.exr") && err.contains("cannot write") && err.contains("large"),
        "{err}"
    );
    assert!(
        names(&out_dir).is_empty(),
        "left behind: {:?}",
        names(&out_dir)
    );
}

#[test]
fn full_filesystem_keeps_finished_frames_and_leaves_no_partial_file() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("tmpfs");
    let (scene, cams) = inputs(&dir, 6);
    let mnt = dir.join("small");
    std::fs::create_dir(&mnt).unwrap();
    // 160 KB holds two 62 KB frames, not three. Needs root (or CAP_SYS_ADMIN).
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=160k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping: cannot mount a tmpfs here (file_size_limit covers the error path)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let pattern = mnt.join("f.####.exr").to_string_lossy().into_owned();
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &pattern,
        "--write-threads",
        "0",
    ]);
    let err = expect_code(&out, 6);
    assert!(err.contains("No space left"), "{err}");
    let left = files(&mnt);
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        ["f.0000.exr", "f.0001.exr"],
        "{err}"
    );
    for name in left.keys() {
        assert!(read_exr(&mnt.join(name)).is_ok(), "{name} is not complete");
    }
    assert_eq!(progress_lines(&stdout(&out)).len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Help

#[test]
fn help_lists_exit_codes_and_farm_flags() {
    let out = vksplat(&["render", "--help"]);
    let text = expect_code(&out, 0) + &stdout(&out);
    for want in [
        "Exit codes",
        "6  output not writable",
        "143",
        "--frames",
        "--skip-existing",
        "--overwrite",
        "--orbit",
        "--log-format",
        "####",
    ] {
        assert!(text.contains(want), "--help lacks {want}:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Schedulers

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether the OpenJD CLI is on PATH; under `VKSPLAT_REQUIRE_GPU=1` it must be.
fn openjd_available() -> bool {
    let openjd = Command::new("openjd").arg("--version").output();
    if openjd.is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(
        !required(),
        "openjd is not on PATH (pip install openjd-cli; tools/setup.sh installs it) and \
         VKSPLAT_REQUIRE_GPU=1"
    );
    eprintln!("skipping: openjd not installed");
    false
}

/// `openjd run` of the template with `params` (NAME=VALUE), the binary under test and
/// validation on: (success, stdout + stderr).
fn openjd_run(template: &Path, params: &[String]) -> (bool, String) {
    let mut cmd = Command::new("openjd");
    cmd.arg("run").arg(template);
    for p in params {
        cmd.args(["-p", p]);
    }
    let out = cmd
        .args(["-p", &format!("VksplatExecutable={}", bin().display())])
        .env("VKSPLAT_VALIDATION", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn openjd_template_runs_in_two_chunks() {
    if !gpu_available() || !openjd_available() {
        return;
    }
    let dir = TempDir::new("openjd");
    let (scene, cams) = inputs(&dir, 4);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let template = repo_root().join("tools/vksplat.openjd.yaml");
    let (ok, log) = openjd_run(
        &template,
        &[
            format!("SceneFile={scene}"),
            format!("CameraFile={cams}"),
            format!("OutputDir={}", out_dir.display()),
            "Frames=0-3".into(),
            "ChunkSize=2".into(),
        ],
    );
    assert!(ok, "openjd run failed:\n{log}");
    assert!(log.contains("Chunks run: 2"), "{log}");
    // NONCONTIGUOUS chunks are written as OpenJD range expressions (two frames: "0,1").
    assert!(
        (log.contains("Frame(CHUNK[INT]) = 0-1") || log.contains("Frame(CHUNK[INT]) = 0,1"))
            && (log.contains("= 2-3") || log.contains("= 2,3")),
        "{log}"
    );
    assert!(log.contains("openjd_progress: 100.0"), "{log}");
    assert!(!log.contains("validation error"), "{log}");
    let chunked = files(&out_dir);
    assert_eq!(
        chunked.keys().collect::<Vec<_>>(),
        [
            "frame.0000.exr",
            "frame.0001.exr",
            "frame.0002.exr",
            "frame.0003.exr"
        ]
    );
    // The same frames rendered directly in one process: identical bytes.
    for f in chunked.keys() {
        std::fs::remove_file(out_dir.join(f)).unwrap();
    }
    let pattern = format!("{}/frame.####.exr", out_dir.display());
    let out = vksplat(&[
        "render", &scene, "--camera", &cams, "--frames", "0-3", "-o", &pattern,
    ]);
    expect_code(&out, 0);
    assert_eq!(
        files(&out_dir),
        chunked,
        "openjd chunks differ from one direct run"
    );
}

#[test]
fn openjd_stepped_frames_stay_in_one_process_and_failures_say_why() {
    if !gpu_available() || !openjd_available() {
        return;
    }
    let dir = TempDir::new("openjd-stepped");
    let (scene, cams) = inputs(&dir, 7);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let template = repo_root().join("tools/vksplat.openjd.yaml");
    let params = |scene: &str| {
        vec![
            format!("SceneFile={scene}"),
            format!("CameraFile={cams}"),
            format!("OutputDir={}", out_dir.display()),
            "Frames=0-6:2".to_string(),
            "ChunkSize=4".to_string(),
        ]
    };
    // NONCONTIGUOUS chunking: the four frames of a stepped list are one chunk (CONTIGUOUS
    // would run one process per frame).
    let (ok, log) = openjd_run(&template, &params(&scene));
    assert!(ok, "openjd run failed:\n{log}");
    assert!(log.contains("Chunks run: 1"), "{log}");
    assert!(log.contains("Frame(CHUNK[INT]) = 0-6:2"), "{log}");
    assert_eq!(
        names(&out_dir),
        [
            "frame.0000.exr",
            "frame.0002.exr",
            "frame.0004.exr",
            "frame.0006.exr"
        ]
    );

    // A failing task tells the runtime why with an openjd_fail line.
    let missing = dir.arg("no-such-scene.ply");
    let (ok, log) = openjd_run(&template, &params(&missing));
    assert!(!ok, "{log}");
    let fail = log
        .lines()
        .find(|l| l.contains("openjd_fail: "))
        .unwrap_or_else(|| panic!("no openjd_fail line:\n{log}"));
    assert!(
        fail.contains("no-such-scene.ply") && fail.contains("(exit code 3)"),
        "{fail}"
    );
}

#[test]
fn openjd_template_gpu_variant_is_a_valid_template() {
    if !openjd_available() {
        return;
    }
    let template = repo_root().join("tools/vksplat.openjd.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    let check = |path: &Path| {
        let out = Command::new("openjd")
            .arg("check")
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}{}",
            path.display(),
            stdout(&out),
            stderr(&out)
        );
    };
    check(&template);
    // The documented GPU variant: the same template with the `#gpu ` lines enabled.
    assert!(
        !text.contains("\n    hostRequirements:"),
        "the default runs anywhere"
    );
    let gpu = text.replace("#gpu ", "");
    assert!(
        gpu.contains("\n    hostRequirements:\n      amounts:\n        - name: amount.worker.gpu\n          min: 1\n"),
        "{gpu}"
    );
    let dir = TempDir::new("openjd-gpu");
    let variant = dir.join("vksplat-gpu.openjd.yaml");
    std::fs::write(&variant, gpu).unwrap();
    check(&variant);
}

#[test]
fn flamenco_job_type_compiles_chunked_tasks() {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: node is not installed");
        return;
    }
    let script = repo_root().join("tools/flamenco/vksplat-render.js");
    // Flamenco runs job types in goja with `author`, `print` and `frameChunker` provided;
    // stand-ins record what the script builds.
    let harness = format!(
        r#"
        const fs = require('fs');
        const tasks = [];
        globalThis.print = () => {{}};
        globalThis.author = {{
          Task: (name, type) => {{ const t = {{ name, type, commands: [] }};
                                   t.addCommand = c => t.commands.push(c); return t; }},
          Command: (type, params) => ({{ type, params }}),
        }};
        globalThis.frameChunker = (frames, size) => {{
          const all = [];
          for (const part of frames.split(',')) {{
            const [a, b] = part.split('-').map(Number);
            for (let f = a; f <= (b === undefined ? a : b); f++) all.push(f);
          }}
          const out = [];
          for (let i = 0; i < all.length; i += size) {{
            const c = all.slice(i, i + size);
            out.push(c.length > 1 ? `${{c[0]}}-${{c[c.length - 1]}}` : `${{c[0]}}`);
          }}
          return out;
        }};
        eval(fs.readFileSync({script:?}, 'utf8') + '\nglobalThis.JOB_TYPE = JOB_TYPE; globalThis.compileJob = compileJob;');
        const job = {{ name: 'shot', settings: {{ scene: '/s.ply', camera: '/c.json',
          render_output: '/out/f.####.exr', frames: '1-5', chunk_size: 2, first_frame: 1,
          mode: 'classic', device: 'auto', vksplat: 'vksplat' }},
          addTask: t => tasks.push(t) }};
        compileJob(job);
        console.log(JSON.stringify({{ keys: JOB_TYPE.settings.map(s => s.key), tasks }}));
        "#
    );
    let out = Command::new("node")
        .arg("-e")
        .arg(harness)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    for key in ["scene", "camera", "render_output", "frames", "chunk_size"] {
        assert!(
            v["keys"].as_array().unwrap().iter().any(|k| k == key),
            "{key}"
        );
    }
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    let frames: Vec<String> = tasks
        .iter()
        .map(|t| {
            let args: Vec<&str> = t["commands"][0]["params"]["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(t["commands"][0]["type"], "exec");
            assert_eq!(&args[..2], ["render", "/s.ply"]);
            assert!(args.contains(&"--skip-existing") && args.contains(&"/out/f.####.exr"));
            let i = args.iter().position(|a| *a == "--frames").unwrap();
            args[i + 1].to_string()
        })
        .collect();
    assert_eq!(frames, ["1-2", "3-4", "5"]);
}
