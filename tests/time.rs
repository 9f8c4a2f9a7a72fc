//! Time everywhere (issue 11): plugins picked by content from their manifests ("reads"),
//! `--time`/`--fps`/`--time-start` on frames and camera paths, the time in EXR headers,
//! motion blur, text parameters, `vksplat info` of plugin scenes and the plugin ABI's time
//! range (version 2) next to version-1 plugins.
//!
//! The scenes come from the `panics` test plugin (tests/plugins/panic): on a source file it is
//! a small blob whose centre moves as x = 2t − 1 over its declared time range [0, 1]. Each
//! test lays out its own plugin directory with a manifest that says which files it reads.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use plugin_support::{build_workspace, cc_shared, dylib, manifest, profile_dir, root};
use vksplat_io::{read_exr, ExrImage, ExrValue};
use vksplat_tests::cli::{
    self, assert_exit, command, output_within, stderr, stdout, vksplat, TempDir,
};

const W: u32 = 96;
const H: u32 = 64;
const FX: f32 = 40.0;
/// The camera looks down +z from z = −3: the blob is at depth 3.
const DEPTH: f32 = 3.0;

/// The panics plugin's library, built once.
fn panics_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        build_workspace();
        let lib = profile_dir().join(dylib("vksplat_test_panic"));
        assert!(lib.is_file(), "{} was not built", lib.display());
        lib
    })
}

/// A plugin directory in `dir`/`sub` holding the panics plugin under a manifest that reads
/// the files `reads` (a JSON list) describes.
fn plugin_dir(dir: &TempDir, sub: &str, name: &str, reads: &str) -> String {
    let p = dir.join(sub);
    std::fs::create_dir_all(&p).unwrap();
    std::fs::copy(panics_library(), p.join(dylib("vksplat_test_panic"))).unwrap();
    let text = format!(
        "{{\"name\": \"{name}\", \"version\": \"0.0.2\", \"abi_version\": 2, \"library\": \
         \"vksplat_test_panic\", \"reads\": {reads}}}\n"
    );
    std::fs::write(p.join(format!("{name}.vksplat.json")), text).unwrap();
    p.to_string_lossy().into_owned()
}

/// An explicit camera at (x, 0, −3) looking down +z.
fn camera_json(name: &str, x: f32) -> String {
    cli::camera_json(name, W, H, FX as f64, [-x, 0.0, DEPTH])
}

fn write_cameras(dir: &TempDir, xs: &[f32]) -> String {
    let cams: Vec<String> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| camera_json(&format!("cam{i}"), *x))
        .collect();
    std::fs::write(dir.join("cams.json"), format!("[{}]", cams.join(","))).unwrap();
    dir.arg("cams.json")
}

fn run(args: &[&str]) -> Output {
    output_within(&mut command(args), Duration::from_secs(120))
}

fn time_of(img: &ExrImage) -> Option<f64> {
    img.typed_attributes.iter().find_map(|(n, v)| match v {
        ExrValue::Double(t) if n == "vksplat_time" => Some(*t),
        _ => None,
    })
}

fn string_attr<'a>(img: &'a ExrImage, name: &str) -> Option<&'a str> {
    img.attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Alpha-weighted centroid x of an image, in pixels (pixel centres at i + 0.5).
fn centroid_x(img: &ExrImage) -> f64 {
    let a = img.channel("A").expect("alpha");
    let (mut sum, mut weight) = (0.0f64, 0.0f64);
    for (i, &v) in a.iter().enumerate() {
        let x = (i % img.width as usize) as f64 + 0.5;
        sum += v as f64 * x;
        weight += v as f64;
    }
    assert!(weight > 1.0, "the blob is not in view");
    sum / weight
}

// ---------------------------------------------------------------------------------------------
// Picking the plugin by content

#[test]
fn info_picks_the_plugin_by_content_and_plugin_overrides_it() {
    let dir = TempDir::new("detect");
    let plugins = plugin_dir(
        &dir,
        "plugins",
        "panics",
        r#"[{"suffix": ".MOVER"}, {"ply_properties": ["trbf_center", "motion_0"]}]"#,
    );
    std::fs::write(dir.join("blob.mover"), b"anything").unwrap();
    let out = vksplat(&["info", &dir.arg("blob.mover"), "--plugin-dir", &plugins]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("plugin: panics 0.0.2"), "{text}");
    assert!(text.contains("found by content"), "{text}");
    assert!(text.contains("count: 8"), "{text}");
    assert!(text.contains("time range: 0 .. 1"), "{text}");

    let out = vksplat(&[
        "info",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--json",
    ]);
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["plugin"], "panics");
    assert_eq!(v["detected"], true);
    assert_eq!(v["count"], 8);
    assert_eq!(v["time_range"], serde_json::json!([0.0, 1.0]));

    // A PLY that is also a valid static scene: the plugin that claims its properties wins.
    let n = 4;
    let zeros = vec![0.0f32; n];
    let ones = vec![1.0f32; n];
    let mut cols: Vec<(&str, &[f32])> = vec![
        ("x", &zeros),
        ("y", &zeros),
        ("z", &zeros),
        ("f_dc_0", &zeros),
        ("f_dc_1", &zeros),
        ("f_dc_2", &zeros),
        ("opacity", &zeros),
        ("scale_0", &zeros),
        ("scale_1", &zeros),
        ("scale_2", &zeros),
        ("rot_0", &ones),
        ("rot_1", &zeros),
        ("rot_2", &zeros),
        ("rot_3", &zeros),
    ];
    vksplat_io::ply::write_columns(&dir.join("static.ply"), &cols, &[]).unwrap();
    cols.push(("trbf_center", &zeros));
    cols.push(("motion_0", &zeros));
    vksplat_io::ply::write_columns(&dir.join("spacetime.ply"), &cols, &[]).unwrap();
    let info = |file: &str, extra: &[&str]| {
        let mut args = vec!["info", file, "--plugin-dir", &plugins, "--json"];
        args.extend(extra);
        let out = vksplat(&args);
        assert_exit(&out, 0);
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    assert_eq!(info(&dir.arg("spacetime.ply"), &[])["plugin"], "panics");
    let plain = info(&dir.arg("static.ply"), &[]);
    assert_eq!(plain["format"], "ply", "{plain}");
    assert_eq!(plain["count"], 4);
    // --plugin overrides: the static PLY read by the plugin.
    let forced = info(&dir.arg("static.ply"), &["--plugin", "panics"]);
    assert_eq!(forced["plugin"], "panics");
    assert_eq!(forced["detected"], false);
}

#[test]
fn two_plugins_claiming_a_file_is_a_usage_error_naming_both() {
    let dir = TempDir::new("ambiguous");
    let a = plugin_dir(&dir, "a", "panics", r#"[{"suffix": ".mover"}]"#);
    let b = plugin_dir(&dir, "b", "mover2", r#"[{"magic": "616e79"}]"#);
    std::fs::write(dir.join("blob.mover"), b"anything").unwrap();
    for cmd in ["info", "render"] {
        let out = vksplat(&[
            cmd,
            &dir.arg("blob.mover"),
            "--plugin-dir",
            &a,
            "--plugin-dir",
            &b,
        ]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("'panics'") && err.contains("'mover2'") && err.contains("--plugin"),
            "{cmd}: {err}"
        );
    }
    // Naming one settles it.
    let out = vksplat(&[
        "info",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &a,
        "--plugin-dir",
        &b,
        "--plugin",
        "panics",
    ]);
    assert_exit(&out, 0);
}

#[test]
fn hostile_files_neither_hang_nor_match() {
    let dir = TempDir::new("hostile");
    let plugins = plugin_dir(
        &dir,
        "plugins",
        "panics",
        r#"[{"suffix": ".mover", "magic": "616e79"},
            {"ply_properties": ["trbf_center"]},
            {"npz_arrays": ["means3D"]}]"#,
    );
    // A FIFO with a claimed suffix: no match (not a regular file), no hang; the static reader
    // refuses it (exit 3).
    let fifo = dir.join("pipe.mover");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.expect("mkfifo").success());
    let out = run(&["info", fifo.to_str().unwrap(), "--plugin-dir", &plugins]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("FIFO"), "{}", stderr(&out));
    // A huge sparse file: detection reads its first MiB at most (the static reader, which
    // reads whole files, is not what is tested here).
    let big = dir.join("big.ply");
    for name in ["big.ply", "big.npz"] {
        let f = std::fs::File::create(dir.join(name)).unwrap();
        f.set_len(8 << 30).unwrap();
    }
    let search = vksplat_plugin_host::SearchPath {
        dirs: vec![PathBuf::from(&plugins)],
    };
    let start = std::time::Instant::now();
    assert!(vksplat_plugin_host::detect(&search, &big)
        .unwrap()
        .is_none());
    assert!(vksplat_plugin_host::detect(&search, &dir.join("big.npz"))
        .unwrap()
        .is_none());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // A truncated header naming the property: no match, the static reader's error.
    std::fs::write(
        dir.join("cut.ply"),
        b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float trbf_center\n",
    )
    .unwrap();
    let out = run(&["info", &dir.arg("cut.ply"), "--plugin-dir", &plugins]);
    assert_exit(&out, 3);
    // A zip whose central directory lies past its end: no match.
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend([0u8; 18]);
    zip.extend(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\x2e\0\0\0\xff\xff\0\0\0\0");
    std::fs::write(dir.join("params.npz"), &zip).unwrap();
    let out = run(&["info", &dir.arg("params.npz"), "--plugin-dir", &plugins]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// Text parameters

#[test]
fn text_parameters_reach_the_plugin_unparsed() {
    let dir = TempDir::new("text");
    let plugins = plugin_dir(&dir, "plugins", "panics", r#"[{"suffix": ".mover"}]"#);
    std::fs::write(dir.join("blob.mover"), b"x").unwrap();
    let file = dir.arg("blob.mover");
    // `label` sets the splat count to its length: 7 characters, commas and all.
    let out = vksplat(&[
        "info",
        &file,
        "--plugin-dir",
        &plugins,
        "--json",
        "--param",
        "label=abc,def",
    ]);
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["count"], 7);
    // `fail` quotes its value: passed exactly, '=' and spaces included (only the outer
    // whitespace of a --param value is trimmed).
    let out = vksplat(&[
        "info",
        &file,
        "--plugin-dir",
        &plugins,
        "--param",
        "fail=1,2 x=y /p.gltf",
    ]);
    assert_exit(&out, 4);
    assert!(
        stderr(&out).contains("fail requested: [1,2 x=y /p.gltf]"),
        "{}",
        stderr(&out)
    );
    // `plugins info` describes it as text read at open.
    let out = vksplat(&["plugins", "info", "panics", "--plugin-dir", &plugins]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("label (at open): text, read at open"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("reads: name ending in .mover"),
        "{}",
        stdout(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Rendering at times

#[test]
fn fps_maps_frames_to_times_recorded_in_the_exr() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let dir = TempDir::new("fps");
    let plugins = plugin_dir(&dir, "plugins", "panics", r#"[{"suffix": ".mover"}]"#);
    std::fs::write(dir.join("blob.mover"), b"x").unwrap();
    let cams = write_cameras(&dir, &[0.0]);
    let out = vksplat(&[
        "render",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--camera",
        &cams,
        "--fps",
        "8",
        "--time-start",
        "0.25",
        "--first-frame",
        "10",
        "--frames",
        "10-14",
        "--exr-color",
        "raw",
        "-o",
        &dir.arg("f.####.exr"),
        "--quiet",
        "--log-format",
        "json",
    ]);
    assert_exit(&out, 0);
    // Progress events carry each frame's time (in the order the writer threads finish).
    let mut times: Vec<(i64, f64)> = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "frame")
        .map(|v| {
            let frame = v["frame"].as_i64().expect("a frame");
            (frame, v["time"].as_f64().expect("a time"))
        })
        .collect();
    times.sort_by_key(|t| t.0);
    assert_eq!(
        times,
        vec![(10, 0.25), (11, 0.375), (12, 0.5), (13, 0.625), (14, 0.75)]
    );
    let mut xs = Vec::new();
    for (i, frame) in (10..=14).enumerate() {
        let img = read_exr(&dir.join(&format!("f.{frame:04}.exr"))).unwrap();
        let t = 0.25 + i as f64 / 8.0;
        assert_eq!(time_of(&img), Some(t), "frame {frame}");
        let cmd = string_attr(&img, "command_line").unwrap();
        assert!(
            cmd.contains("--fps 8 --time-start 0.25"),
            "the mapping is part of the frame's identity: {cmd}"
        );
        xs.push((t, centroid_x(&img)));
    }
    // The blob's centre x = 2t − 1 at depth 3: it moves FX·2Δt/3 pixels per frame.
    for w in xs.windows(2) {
        let want = FX as f64 * 2.0 * (w[1].0 - w[0].0) / DEPTH as f64;
        let got = w[1].1 - w[0].1;
        assert!((got - want).abs() < 0.5, "moved {got} px, expected {want}");
    }
    // Resume: every frame is complete and of this job: nothing is rendered again.
    let out = vksplat(&[
        "render",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--camera",
        &cams,
        "--fps",
        "8",
        "--time-start",
        "0.25",
        "--first-frame",
        "10",
        "--frames",
        "10-14",
        "--exr-color",
        "raw",
        "-o",
        &dir.arg("f.####.exr"),
        "--skip-existing",
    ]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("already exist"), "{}", stderr(&out));
}

#[test]
fn a_camera_path_gives_frame_n_camera_n_and_time_n() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let dir = TempDir::new("path");
    let plugins = plugin_dir(&dir, "plugins", "panics", r#"[{"suffix": ".mover"}]"#);
    std::fs::write(dir.join("blob.mover"), b"x").unwrap();
    // The cameras follow the blob: x = 2t − 1 at t = n/4.
    let cams = write_cameras(&dir, &[-1.0, -0.5, 0.0]);
    let out = vksplat(&[
        "render",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--camera",
        &cams,
        "--fps",
        "4",
        "-o",
        &dir.arg("p.#.exr"),
        "--quiet",
    ]);
    assert_exit(&out, 0);
    for n in 0..3 {
        let img = read_exr(&dir.join(&format!("p.{n}.exr"))).unwrap();
        assert_eq!(time_of(&img), Some(n as f64 / 4.0));
        assert_eq!(
            string_attr(&img, "camera"),
            Some(format!("cam{n}").as_str())
        );
        // Camera and blob move together: the blob stays in the middle.
        let cx = centroid_x(&img);
        assert!(
            (cx - W as f64 / 2.0).abs() < 0.5,
            "frame {n}: centroid {cx}"
        );
    }
    // Frames outside a path of several cameras are still refused.
    let out = vksplat(&[
        "render",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--camera",
        &cams,
        "--fps",
        "4",
        "--frames",
        "0-3",
        "-o",
        &dir.arg("q.#.exr"),
    ]);
    assert_exit(&out, 2);
}

fn render_exr(dir: &TempDir, plugins: &str, name: &str, extra: &[&str]) -> ExrImage {
    let cams = write_cameras(dir, &[0.0]);
    let file = dir.arg(name);
    let scene = dir.arg("blob.mover");
    let mut args = vec![
        "render",
        &scene,
        "--plugin-dir",
        plugins,
        "--camera",
        &cams,
        "--exr-color",
        "raw",
        "-o",
        &file,
        "--quiet",
    ];
    args.extend(extra);
    let out = vksplat(&args);
    assert_exit(&out, 0);
    read_exr(&dir.join(name)).unwrap()
}

#[test]
fn motion_blur_averages_sub_frames_and_one_sample_is_the_plain_render() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let dir = TempDir::new("blur");
    let plugins = plugin_dir(&dir, "plugins", "panics", r#"[{"suffix": ".mover"}]"#);
    std::fs::write(dir.join("blob.mover"), b"x").unwrap();
    let plain = render_exr(&dir, &plugins, "plain.exr", &["--time", "0.5"]);
    let one = render_exr(
        &dir,
        &plugins,
        "one.exr",
        &["--time", "0.5", "--shutter", "0.2", "--motion-samples", "1"],
    );
    for c in ["R", "G", "B", "A", "Z"] {
        assert_eq!(
            plain.channel(c),
            one.channel(c),
            "channel {c}: K=1 is the plain render"
        );
    }
    // K = 4, centred: the mean of single renders at 0.5 + 0.2·((k + ½)/4 − ½).
    let blurred = render_exr(
        &dir,
        &plugins,
        "blur.exr",
        &["--time", "0.5", "--shutter", "0.2", "--motion-samples", "4"],
    );
    let singles: Vec<ExrImage> = (0..4)
        .map(|k| {
            let t = 0.5 + 0.2 * ((k as f64 + 0.5) / 4.0 - 0.5);
            render_exr(
                &dir,
                &plugins,
                &format!("s{k}.exr"),
                &["--time", &t.to_string()],
            )
        })
        .collect();
    let mut max_diff = 0.0f32;
    for c in ["R", "G", "B", "A"] {
        let got = blurred.channel(c).unwrap();
        assert_eq!(got.len(), (W * H) as usize);
        for (i, v) in got.iter().enumerate() {
            let mean = singles
                .iter()
                .map(|s| s.channel(c).unwrap()[i] as f64)
                .sum::<f64>()
                / 4.0;
            max_diff = max_diff.max((v - mean as f32).abs());
        }
    }
    assert!(
        max_diff <= 1e-6,
        "colour/alpha differ from the mean by {max_diff}"
    );
    // Depth: the alpha-weighted mean.
    let z = blurred.channel("Z").unwrap();
    for (i, zi) in z.iter().enumerate() {
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for s in &singles {
            let a = s.channel("A").unwrap()[i] as f64;
            num += a * s.channel("Z").unwrap()[i] as f64;
            den += a;
        }
        let want = if den > 0.0 { (num / den) as f32 } else { 0.0 };
        assert!(
            (zi - want).abs() <= 1e-5 * want.abs().max(1.0),
            "Z[{i}] {zi} vs {want}"
        );
    }
    // The blur is real: the blurred blob is wider than the sharp one.
    let spread = |img: &ExrImage| {
        img.channel("A")
            .unwrap()
            .iter()
            .filter(|a| **a > 0.01)
            .count()
    };
    assert!(
        spread(&blurred) > spread(&plain),
        "{} vs {}",
        spread(&blurred),
        spread(&plain)
    );
    let shutter = blurred.typed_attributes.iter().find_map(|(n, v)| match v {
        ExrValue::V2f(s) if n == "vksplat_shutter" => Some(*s),
        _ => None,
    });
    assert_eq!(shutter, Some([-0.075, 0.075]));
    assert_eq!(time_of(&blurred), Some(0.5));
    // More samples than one need a shutter.
    let out = vksplat(&[
        "render",
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--motion-samples",
        "3",
        "-o",
        &dir.arg("x.png"),
    ]);
    assert_exit(&out, 2);
}

#[test]
fn static_scenes_ignore_time_and_refuse_plugin_params() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let dir = TempDir::new("static");
    let splats = vksplat_tests::random_scene(&mut vksplat_tests::Rng::new(3), 200, 0);
    vksplat_io::write_ply(&dir.join("s.ply"), &splats).unwrap();
    let cams = write_cameras(&dir, &[0.0]);
    let base = |extra: &[&str], out: &str| {
        let o = dir.arg(out);
        let mut args = vec![
            "render".to_string(),
            dir.arg("s.ply"),
            "--camera".into(),
            cams.clone(),
            "--exr-color".into(),
            "raw".into(),
            "-o".into(),
            o,
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        vksplat(&refs)
    };
    let a = base(&[], "a.exr");
    assert_exit(&a, 0);
    let b = base(
        &["--time", "3", "--shutter", "1", "--motion-samples", "4"],
        "b.exr",
    );
    assert_exit(&b, 0);
    assert!(stderr(&b).contains("static"), "{}", stderr(&b));
    let (a, b) = (
        read_exr(&dir.join("a.exr")).unwrap(),
        read_exr(&dir.join("b.exr")).unwrap(),
    );
    assert_eq!(a.channel("R"), b.channel("R"));
    assert_eq!(time_of(&b), None, "a static scene records no time");
    let c = base(&["--param", "x=1"], "c.exr");
    assert_exit(&c, 2);
    assert!(stderr(&c).contains("plugin scene"), "{}", stderr(&c));
}

// ---------------------------------------------------------------------------------------------
// The plugin ABI's time range

#[test]
fn a_version_1_description_reads_as_no_time_range() {
    let dir = TempDir::new("abi");
    let src = root().join("tests/plugins/bad_plugin.c");
    for (name, define) in [("v1plugin", "V1_PLUGIN"), ("ranged", "TIME_RANGE")] {
        let lib = format!("vksplat_{name}");
        cc_shared(
            std::slice::from_ref(&src),
            &[format!("-D{define}"), format!("-DPLUGIN_NAME=\"{name}\"")],
            &dir.join(&dylib(&lib)),
        );
        manifest(&dir.0, name, 1, &lib);
    }
    let search = vksplat_plugin_host::SearchPath {
        dirs: vec![dir.0.clone()],
    };
    let v1 = vksplat_plugin_host::load(&search, "v1plugin").unwrap();
    assert_eq!(v1.abi_version, 1, "loaded as a version-1 plugin");
    let inst = vksplat_plugin_host::Instance::open(v1, None, &[]).unwrap();
    assert_eq!(inst.desc.splat_count, 64);
    assert_eq!(
        inst.desc.time_range, None,
        "a version-1 description has no range, whatever its flags say"
    );
    let v2 = vksplat_plugin_host::load(&search, "ranged").unwrap();
    assert_eq!(v2.abi_version, vksplat_abi::VKSPLAT_PLUGIN_ABI_VERSION);
    let inst = vksplat_plugin_host::Instance::open(v2, None, &[]).unwrap();
    assert_eq!(inst.desc.time_range, Some((-1.5, 4.0)));
    let out = vksplat(&["plugins", "info", "ranged", "--plugin-dir", &dir.arg("")]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("time range: -1.5 .. 4"),
        "{}",
        stdout(&out)
    );
    let out = vksplat(&["plugins", "info", "v1plugin", "--plugin-dir", &dir.arg("")]);
    assert_exit(&out, 0);
    assert!(!stdout(&out).contains("time range"), "{}", stdout(&out));
}

// ---------------------------------------------------------------------------------------------
// bench

#[test]
fn bench_times_the_variant_stage_of_plugin_scenes() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let dir = TempDir::new("bench");
    let plugins = plugin_dir(&dir, "plugins", "panics", r#"[{"suffix": ".mover"}]"#);
    std::fs::write(dir.join("blob.mover"), b"x").unwrap();
    let cams = write_cameras(&dir, &[0.0]);
    let bench = |args: &[&str]| {
        let mut all = vec!["bench", "--camera", &cams, "--frames", "2", "--warmup", "1"];
        all.extend(args);
        let out = run(&all);
        assert_exit(&out, 0);
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let stage_names = |v: &serde_json::Value| -> Vec<String> {
        v["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stage"].as_str().unwrap().to_string())
            .collect()
    };
    // CPU path, found by content: the plugin's host work is timed on the wall clock.
    let v = bench(&[
        &dir.arg("blob.mover"),
        "--plugin-dir",
        &plugins,
        "--time",
        "0.5",
    ]);
    assert_eq!(v["plugin"], "panics");
    assert_eq!(v["eval"], "cpu");
    assert_eq!(v["time"], 0.5);
    assert_eq!(stage_names(&v)[0], "variant (cpu)");
    let f = v["variant_fraction"].as_f64().unwrap();
    assert!(f > 0.0 && f < 1.0, "{f}");
    // GPU path: the plugin's stage is the frame's first GPU stage, "variant".
    let shipped = plugin_support::plugin_dir().to_str().unwrap().to_string();
    let v = bench(&[
        "--plugin",
        "skinwave",
        "--plugin-dir",
        &shipped,
        "--param",
        "count=2000",
        "--time",
        "0.3",
    ]);
    assert_eq!(v["eval"], "gpu");
    let names = stage_names(&v);
    assert_eq!(names[0], "variant", "{names:?}");
    assert!(names.contains(&"blend".to_string()));
    // lavapipe (the suite's device) is a CPU device: the CPU blend kernel unless overridden.
    let want = std::env::var("VKSPLAT_BLEND_KERNEL").unwrap_or_default();
    let want = if want == "gpu" { "gpu" } else { "cpu" };
    assert_eq!(v["blend_kernel"], want, "{v}");
    // The sorts follow the same per-device choice (VKSPLAT_SORT_KERNEL overrides).
    let want = std::env::var("VKSPLAT_SORT_KERNEL").unwrap_or_default();
    let want = if want == "gpu" { "gpu" } else { "cpu" };
    assert_eq!(v["sort_kernel"], want, "{v}");
    let f = v["variant_fraction"].as_f64().unwrap();
    assert!(f > 0.0 && f < 1.0, "{f}");
    // A static scene has no variant stage and takes no --time.
    let splats = vksplat_tests::random_scene(&mut vksplat_tests::Rng::new(5), 100, 0);
    vksplat_io::write_ply(&dir.join("s.ply"), &splats).unwrap();
    let v = bench(&[&dir.arg("s.ply")]);
    assert!(v["plugin"].is_null());
    // The GPU time ends with the blend; the readback to host memory is its own stage, counted
    // only in the total with it (every frame's, so their medians too).
    let gpu = v["gpu_median_ms"].as_f64().unwrap();
    let with_readback = v["gpu_with_readback_median_ms"].as_f64().unwrap();
    assert!(gpu > 0.0 && with_readback > gpu, "{v}");
    assert_eq!(stage_names(&v).last().map(String::as_str), Some("readback"));
    // Device bytes per splat: at least the SH-0 arrays (means, rotations, scales, opacity,
    // colour: 56 bytes), and the whole context's at least the scene's.
    let scene_per_splat = v["scene_device_bytes_per_splat"].as_f64().unwrap();
    assert!(scene_per_splat >= 56.0, "{v}");
    assert!(
        v["device_bytes_per_splat"].as_f64().unwrap() >= scene_per_splat,
        "{v}"
    );
    assert!(
        v["device_memory"]["frame_bytes"].as_u64().unwrap() > 0,
        "{v}"
    );
    assert!(!stage_names(&v).iter().any(|n| n.starts_with("variant")));
    let out = vksplat(&["bench", &dir.arg("s.ply"), "--camera", &cams, "--time", "1"]);
    assert_exit(&out, 2);
}
