//! End-to-end tests of the `vksplat` binary: exit codes, error messages and outputs.
//!
//! The binary is `target/<profile>/vksplat`, next to this test's `deps/` directory. Cargo does
//! not build another package's binary for an integration test, so a missing binary is built here
//! with `cargo build --workspace` (same profile). Run `cargo build --workspace` first to test a
//! fresh binary.
//!
//! Tests that reach the GPU run the binary with `VKSPLAT_VALIDATION=1` and fail on any
//! validation error in its stderr. Without a usable Vulkan device they are skipped, unless
//! `VKSPLAT_REQUIRE_GPU=1`, in which case they fail.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use vksplat_io::{read_exr, write_ply, ExrImage, Splats};
use vksplat_tests::cli::{self, assert_exit, bin, stderr, stdout, TempDir};
use vksplat_tests::{random_scene, Rng};

const WIDTH: u32 = 64;
const HEIGHT: u32 = 48;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Runs the binary with validation layers enabled.
fn vksplat(args: &[&str]) -> Output {
    vksplat_env(args, &[])
}

fn vksplat_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).env("VKSPLAT_VALIDATION", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run vksplat")
}

/// Asserts the exit code, no panic, no validation error, and an `ERROR: ` line when failing.
#[track_caller]
fn expect_code(out: &Output, code: i32) -> String {
    assert_exit(out, code);
    stderr(out)
}

/// Whether GPU tests can run: `vksplat devices` exits 0. Exit 5 skips them, unless
/// `VKSPLAT_REQUIRE_GPU=1`.
fn gpu_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let out = vksplat(&["devices"]);
        let required = std::env::var("VKSPLAT_REQUIRE_GPU").is_ok_and(|v| v == "1");
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

/// A small random scene in front of a camera at the origin.
fn scene(n: usize, seed: u64) -> Splats {
    random_scene(&mut Rng::new(seed), n, 1)
}

fn write_scene(dir: &TempDir, name: &str, splats: &Splats) -> String {
    write_ply(&dir.join(name), splats).expect("write test scene");
    dir.arg(name)
}

/// An explicit camera JSON object at `position` looking down +z.
fn camera_json(position: [f32; 3]) -> String {
    cli::camera_json("cam", WIDTH, HEIGHT, 50.0, position.map(|p| -p))
}

/// Writes a camera file holding a list of two cameras at the origin.
fn write_cameras(dir: &TempDir) -> String {
    let one = camera_json([0.0; 3]);
    std::fs::write(dir.join("cams.json"), format!("[{one}, {one}]")).expect("write cameras");
    dir.arg("cams.json")
}

/// A valid scene and camera file in `dir`: (scene, cameras).
fn inputs(dir: &TempDir) -> (String, String) {
    (
        write_scene(dir, "scene.ply", &scene(300, 7)),
        write_cameras(dir),
    )
}

fn all_finite(img: &ExrImage) -> bool {
    img.channels
        .iter()
        .all(|(_, v)| v.iter().all(|x| x.is_finite()))
}

// ---------------------------------------------------------------------------------------------
// Successful renders (GPU)

#[test]
fn renders_png_and_exr() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("ok");
    let (scene, cams) = inputs(&dir);

    let png = dir.arg("frame.PNG");
    let out = vksplat(&[
        "render", &scene, "--camera", &cams, "--output", &png, "--stats",
    ]);
    let err = expect_code(&out, 0);
    assert!(
        err.contains("intersections"),
        "--stats output missing:\n{err}"
    );
    // stdout carries only the progress report of the one frame.
    assert_eq!(
        stdout(&out),
        "PROGRESS frame=0 done=1/1 pct=100.0 status=written\nALF_PROGRESS 100%\n",
        "render wrote other things to stdout"
    );
    let bytes = std::fs::read(&png).expect("png written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), WIDTH);
    assert_eq!(
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
        HEIGHT
    );

    let exr = dir.arg("frame.exr");
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--camera-index",
        "1",
        "--output",
        &exr,
        "--mode",
        "antialiased",
    ]);
    expect_code(&out, 0);
    let img = read_exr(Path::new(&exr)).expect("exr decodes");
    assert_eq!((img.width, img.height), (WIDTH, HEIGHT));
    let names: Vec<&str> = img.channels.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["A", "B", "G", "R", "Z"]);
    for attr in ["vksplat_version", "device", "mode", "camera", "scene"] {
        assert!(img.attribute(attr).is_some(), "attribute {attr} missing");
    }
    assert_eq!(img.attribute("mode"), Some("antialiased"));
    assert_eq!(img.attribute("camera"), Some("cam"));
    assert_eq!(img.attribute("scene"), Some(scene.as_str()));
    assert!(all_finite(&img));
    let alpha = img.channel("A").unwrap();
    assert!(
        alpha.iter().filter(|&&a| a > 0.01).count() > alpha.len() / 20,
        "image is (almost) all background"
    );
}

#[test]
fn automatic_camera_and_size_flags() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("auto");
    let scene = write_scene(&dir, "scene.ply", &scene(300, 8));
    let exr = dir.arg("auto.exr");
    let out = vksplat(&["render", &scene, "-o", &exr, "--width", "40"]);
    expect_code(&out, 0);
    let img = read_exr(Path::new(&exr)).expect("exr decodes");
    // 1280x720 scaled to width 40 keeps 16:9.
    assert_eq!((img.width, img.height), (40, 23));
    assert_eq!(img.attribute("camera"), Some("auto"));
    let alpha = img.channel("A").unwrap();
    assert!(
        alpha.iter().any(|&a| a > 0.01),
        "automatic camera sees nothing"
    );
}

#[test]
fn zero_splats_render_the_background() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("empty");
    let scene = write_scene(&dir, "empty.ply", &Splats::default());
    let cams = write_cameras(&dir);
    let exr = dir.arg("empty.exr");
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &exr,
        "--background",
        "0.25,0.5,0.75",
        // The renderer's values; the default linear EXR would hold L(0.25) etc.
        "--exr-color",
        "raw",
    ]);
    expect_code(&out, 0);
    let img = read_exr(Path::new(&exr)).expect("exr decodes");
    for (channel, want) in [("R", 0.25), ("G", 0.5), ("B", 0.75), ("A", 0.0)] {
        let values = img.channel(channel).unwrap();
        assert!(
            values.iter().all(|&v| (v - want).abs() < 1e-6),
            "channel {channel} is not {want}"
        );
    }
}

#[test]
fn camera_inside_the_scene() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("inside");
    let splats = scene(300, 9);
    let n = splats.len() as f32;
    let mut centre = [0.0f32; 3];
    for m in &splats.means {
        for a in 0..3 {
            centre[a] += m[a] / n;
        }
    }
    let scene = write_scene(&dir, "scene.ply", &splats);
    std::fs::write(dir.join("inside.json"), camera_json(centre)).unwrap();
    let exr = dir.arg("inside.exr");
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &dir.arg("inside.json"),
        "-o",
        &exr,
    ]);
    expect_code(&out, 0);
    let img = read_exr(Path::new(&exr)).expect("exr decodes");
    assert!(all_finite(&img), "non-finite pixels");
}

#[test]
fn absurd_scales_do_not_crash() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("huge");
    let mut splats = scene(50, 10);
    for s in &mut splats.log_scales {
        *s = [40.0; 3];
    }
    let scene = write_scene(&dir, "huge.ply", &splats);
    let cams = write_cameras(&dir);
    let exr = dir.arg("huge.exr");
    let out = vksplat(&["render", &scene, "--camera", &cams, "-o", &exr]);
    match out.status.code() {
        Some(0) => {
            expect_code(&out, 0);
            let img = read_exr(Path::new(&exr)).expect("exr decodes");
            assert!(all_finite(&img), "non-finite pixels");
        }
        _ => {
            let err = expect_code(&out, 1);
            assert!(err.contains("too large"), "{err}");
            assert!(!Path::new(&exr).exists());
        }
    }
}

#[test]
fn nan_field_is_rejected_unless_dropped() {
    let dir = TempDir::new("nan");
    let mut splats = scene(100, 11);
    splats.opacity_logits[3] = f32::NAN;
    let scene = write_scene(&dir, "nan.ply", &splats);
    let cams = write_cameras(&dir);
    let png = dir.arg("nan.png");

    let out = vksplat(&["render", &scene, "--camera", &cams, "-o", &png]);
    let err = expect_code(&out, 3);
    assert!(err.contains("nan.ply") && err.contains("splat 3"), "{err}");
    assert!(!Path::new(&png).exists());

    if !gpu_available() {
        return;
    }
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &png,
        "--drop-invalid",
    ]);
    let err = expect_code(&out, 0);
    assert!(
        err.contains("warning") && err.contains("dropped 1"),
        "{err}"
    );
    assert!(Path::new(&png).exists());
}

// ---------------------------------------------------------------------------------------------
// Bad inputs (no GPU needed: they fail before the device is opened)

#[test]
fn missing_scene_file() {
    let dir = TempDir::new("missing");
    let cams = write_cameras(&dir);
    let missing = dir.arg("nope.ply");
    let out = vksplat(&[
        "render",
        &missing,
        "--camera",
        &cams,
        "-o",
        &dir.arg("o.png"),
    ]);
    let err = expect_code(&out, 3);
    assert!(err.contains("nope.ply"), "{err}");
}

#[test]
fn missing_sample_scene() {
    let dir = TempDir::new("sample");
    let missing = dir.arg("no-sample.ply");
    let out = vksplat_env(
        &["render", "-o", &dir.arg("o.png")],
        &[("VKSPLAT_SAMPLE", &missing)],
    );
    let err = expect_code(&out, 3);
    assert!(
        err.contains("no-sample.ply") && err.contains("VKSPLAT_SAMPLE"),
        "{err}"
    );
}

#[test]
fn truncated_ply() {
    let dir = TempDir::new("trunc");
    let (scene, cams) = inputs(&dir);
    let bytes = std::fs::read(&scene).unwrap();
    std::fs::write(&scene, &bytes[..bytes.len() - 100]).unwrap();
    let out = vksplat(&["render", &scene, "--camera", &cams, "-o", &dir.arg("o.png")]);
    let err = expect_code(&out, 3);
    assert!(err.contains("scene.ply"), "{err}");
}

#[test]
fn ply_header_count_lies() {
    let dir = TempDir::new("lies");
    let (scene, cams) = inputs(&dir);
    let bytes = std::fs::read(&scene).unwrap();
    let text = String::from_utf8_lossy(&bytes[..64]).into_owned();
    assert!(text.contains("element vertex 300\n"));
    let mut lied = b"ply\nformat binary_little_endian 1.0\nelement vertex 900\n".to_vec();
    let header_start = bytes
        .windows(19)
        .position(|w| w == b"element vertex 300\n")
        .unwrap()
        + 19;
    lied.extend_from_slice(&bytes[header_start..]);
    std::fs::write(&scene, lied).unwrap();
    let out = vksplat(&["render", &scene, "--camera", &cams, "-o", &dir.arg("o.png")]);
    let err = expect_code(&out, 3);
    assert!(err.contains("scene.ply"), "{err}");
}

#[test]
fn camera_missing_fx() {
    let dir = TempDir::new("nofx");
    let (scene, _) = inputs(&dir);
    let json = camera_json([0.0; 3]).replace(r#""fx": 50,"#, "");
    assert!(!json.contains("fx"));
    std::fs::write(dir.join("nofx.json"), json).unwrap();
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &dir.arg("nofx.json"),
        "-o",
        &dir.arg("o.png"),
    ]);
    let err = expect_code(&out, 3);
    assert!(err.contains("nofx.json") && err.contains("fx"), "{err}");
}

#[test]
fn camera_index_out_of_range() {
    let dir = TempDir::new("index");
    let (scene, cams) = inputs(&dir);
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "--camera-index",
        "2",
        "-o",
        &dir.arg("o.png"),
    ]);
    let err = expect_code(&out, 2);
    assert!(
        err.contains("cams.json") && err.contains("2 camera"),
        "{err}"
    );
}

#[test]
fn bad_mode_and_background_are_usage_errors() {
    let dir = TempDir::new("usage");
    let (scene, cams) = inputs(&dir);
    let o = dir.arg("o.png");
    let base = [
        "render",
        scene.as_str(),
        "--camera",
        cams.as_str(),
        "-o",
        o.as_str(),
    ];
    for extra in [
        &["--mode", "fancy"][..],
        &["--background", "1,2"],
        &["--background", "1,x,2"],
        &["--background", "nan,0,0"],
        &["--width", "0"],
        &["--no-such-flag"],
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let err = expect_code(&vksplat(&args), 2);
        assert!(err.contains(extra[0]), "{extra:?}: {err}");
    }
    assert!(!Path::new(&o).exists());
}

#[test]
fn output_directory_missing() {
    let dir = TempDir::new("nodir");
    let (scene, cams) = inputs(&dir);
    let out_dir = dir.join("does-not-exist");
    let target = out_dir.join("o.exr");
    // Missing directories are created unless --no-create-dirs is given.
    let out = vksplat(&[
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &target.to_string_lossy(),
        "--no-create-dirs",
    ]);
    let err = expect_code(&out, 6);
    assert!(err.contains("does-not-exist"), "{err}");
    assert!(!out_dir.exists() && !target.exists());
    // Nothing else appeared in the scratch directory either.
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cams.json", "scene.ply"]);
}

#[test]
fn output_extension_unknown() {
    let dir = TempDir::new("ext");
    let (scene, cams) = inputs(&dir);
    let out = vksplat(&["render", &scene, "--camera", &cams, "-o", &dir.arg("o.jpg")]);
    let err = expect_code(&out, 2);
    assert!(err.contains("o.jpg") && err.contains(".jpg"), "{err}");
    assert!(!dir.join("o.jpg").exists());
}

// ---------------------------------------------------------------------------------------------
// info, devices, help

#[test]
fn info_prints_the_count() {
    let dir = TempDir::new("info");
    let scene = write_scene(&dir, "scene.ply", &scene(123, 12));
    let out = vksplat(&["info", &scene]);
    expect_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("123 splats") && text.contains("SH degree 1"),
        "{text}"
    );

    let out = vksplat(&["info", "--json", &scene]);
    expect_code(&out, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("info --json is JSON");
    assert_eq!(v["count"], 123);
    assert_eq!(v["sh_degree"], 1);
    // 3 + 3 + 3 + 9 + 1 + 3 + 4 floats per splat.
    assert_eq!(v["bytes_per_splat"], 26.0 * 4.0);

    let out = vksplat(&["info", &dir.arg("missing.ply")]);
    let err = expect_code(&out, 3);
    assert!(err.contains("missing.ply"), "{err}");
}

#[test]
fn devices_lists_a_usable_device() {
    if !gpu_available() {
        return;
    }
    let out = vksplat(&["devices"]);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("usable"), "{}", stdout(&out));
}

#[test]
fn help_and_version_exit_zero() {
    let out = vksplat(&["--help"]);
    expect_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("Exit codes") && text.contains("6  output not writable"),
        "{text}"
    );
    expect_code(&vksplat(&["--version"]), 0);
    expect_code(&vksplat(&["render", "--help"]), 0);
    // No command: clap prints the help to stderr and exits with the usage code.
    assert_eq!(vksplat(&[]).status.code(), Some(2));
}
