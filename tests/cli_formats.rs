//! `vksplat convert` and `vksplat info` on every scene format, and `vksplat render` of SPZ,
//! compressed PLY and `.splat` scenes (the antialiasing flag choosing the mode; SPZ and PLY of
//! the same scene giving the same image).
//!
//! Like `tests/cli.rs`, this runs `target/<profile>/vksplat` and builds it when missing. GPU
//! tests are skipped without a Vulkan device unless `VKSPLAT_REQUIRE_GPU=1`.

use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use vksplat_io::{read_exr, read_scene, Format};
use vksplat_tests::cli::{assert_exit, stderr, vksplat, TempDir};

#[track_caller]
fn expect_code(out: &Output, code: i32) -> String {
    assert_exit(out, code);
    stderr(out)
}

fn gpu_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let required = std::env::var("VKSPLAT_REQUIRE_GPU").is_ok_and(|v| v == "1");
        match vksplat(&["devices"]).status.code() {
            Some(0) => true,
            Some(5) if !required => false,
            other => panic!("vksplat devices: {other:?} (VKSPLAT_REQUIRE_GPU={required})"),
        }
    })
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/formats")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn convert_between_every_format() {
    let dir = TempDir::new("convert");
    let input = data("playcanvas_test_sh.compressed.ply");
    for (out, format, degree) in [
        ("a.ply", "ply", 3),
        ("a.spz", "spz", 3),
        ("a.compressed.ply", "compressed-ply", 3),
        ("a.splat", "splat", 0),
    ] {
        let o = vksplat(&["convert", &input, &dir.arg(out)]);
        let err = expect_code(&o, 0);
        assert!(err.contains("wrote") && err.contains("64 splats"), "{err}");
        if format == "splat" {
            assert!(err.contains("dropped SH degree 3"), "{err}");
        }
        let o = vksplat(&["info", "--json", &dir.arg(out)]);
        expect_code(&o, 0);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["format"], format, "{out}");
        assert_eq!(v["count"], 64);
        assert_eq!(v["sh_degree"], degree, "{out}");
        assert_eq!(v["antialiased"], false);
        assert_eq!(v["invalid"], serde_json::Value::Null);
    }
    // SPZ versions, antialias override, SH truncation.
    for version in ["2", "3", "4"] {
        let out = dir.arg(&format!("v{version}.spz"));
        let o = vksplat(&[
            "convert",
            &input,
            &out,
            "--spz-version",
            version,
            "--antialiased",
            "true",
            "--sh-degree",
            "1",
        ]);
        expect_code(&o, 0);
        let s = read_scene(Path::new(&out)).unwrap();
        assert!(matches!(s.format, Format::Spz { version: v, .. } if v.to_string() == version));
        assert!(s.antialiased);
        assert_eq!(s.splats.sh_degree, 1);
        let o = vksplat(&["info", &out]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            text.contains(&format!("format: SPZ v{version}"))
                && text.contains("frame: RUB")
                && text.contains("antialiased: yes"),
            "{text}"
        );
    }
    // The flag survives SPZ -> PLY (as a header comment) and back.
    let o = vksplat(&["convert", &dir.arg("v3.spz"), &dir.arg("aa.ply")]);
    expect_code(&o, 0);
    assert!(
        read_scene(Path::new(&dir.arg("aa.ply")))
            .unwrap()
            .antialiased
    );
}

#[test]
fn convert_and_info_reject_bad_input_with_exit_codes() {
    let dir = TempDir::new("bad");
    let input = data("splat-transform_minimal-v3.spz");
    let err = expect_code(&vksplat(&["convert", &input, &dir.arg("x.obj")]), 2);
    assert!(err.contains("unknown output format"), "{err}");
    expect_code(
        &vksplat(&["convert", &input, &dir.arg("x.spz"), "--spz-version", "5"]),
        2,
    );

    let bad = dir.arg("bad.spz");
    let mut bytes = std::fs::read(&input).unwrap();
    bytes.truncate(30);
    std::fs::write(&bad, &bytes).unwrap();
    let err = expect_code(&vksplat(&["convert", &bad, &dir.arg("x.ply")]), 3);
    assert!(
        err.contains("bad.spz") && err.contains("truncated"),
        "{err}"
    );
    let err = expect_code(&vksplat(&["info", &bad]), 3);
    assert!(err.contains("bad.spz"), "{err}");
    let err = expect_code(
        &vksplat(&["convert", &dir.arg("missing.spz"), &dir.arg("x.ply")]),
        3,
    );
    assert!(err.contains("missing.spz"), "{err}");
    // Output directory that does not exist, with --no-create-dirs: exit 6.
    let err = expect_code(
        &vksplat(&[
            "convert",
            &input,
            &dir.arg("no/such/dir/x.ply"),
            "--no-create-dirs",
        ]),
        6,
    );
    assert!(err.contains("x.ply"), "{err}");
}

/// Renders `scene` to an EXR (64×48, automatic camera) and returns (RGBA+Z floats, mode).
fn render(dir: &TempDir, scene: &str, out: &str, extra: &[&str]) -> (Vec<f32>, String) {
    let out = dir.arg(out);
    let mut args = vec![
        "render", scene, "--output", &out, "--width", "64", "--height", "48",
    ];
    args.extend_from_slice(extra);
    expect_code(&vksplat(&args), 0);
    let img = read_exr(Path::new(&out)).unwrap();
    let mode = img
        .attributes
        .iter()
        .find(|(k, _)| k == "mode")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let pixels = img.channels.into_iter().flat_map(|(_, v)| v).collect();
    (pixels, mode)
}

#[test]
fn render_reads_every_format_and_honours_the_antialias_flag() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("render");
    // The same scene as SPZ and as PLY (converted by the CLI) renders the same image.
    let spz = data("playcanvas_biker.spz");
    let ply = dir.arg("biker.ply");
    expect_code(&vksplat(&["convert", &spz, &ply]), 0);
    let (a, mode) = render(&dir, &spz, "spz.exr", &[]);
    let (b, _) = render(&dir, &ply, "ply.exr", &[]);
    assert_eq!(mode, "classic");
    assert!(a.iter().any(|&v| v > 0.0), "empty image");
    assert_eq!(a, b, "SPZ and PLY of the same scene render differently");

    // Compressed PLY and .splat render too.
    render(&dir, &data("playcanvas_biker.compressed.ply"), "c.exr", &[]);
    render(&dir, &data("splat-transform_minimal.splat"), "s.exr", &[]);

    // A file marked antialiased renders in antialiased mode unless --mode overrides it.
    let aa = dir.arg("aa.spz");
    expect_code(
        &vksplat(&["convert", &spz, &aa, "--antialiased", "true"]),
        0,
    );
    let (_, mode) = render(&dir, &aa, "aa.exr", &[]);
    assert_eq!(mode, "antialiased");
    let (_, mode) = render(&dir, &aa, "aa2.exr", &["--mode", "classic"]);
    assert_eq!(mode, "classic");
}
