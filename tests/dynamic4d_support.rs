//! Shared by the `dynamic4d` format tests (included with `#[path]`): the freshly built plugin
//! in a directory of its own, opening and rendering its scenes on either path, static scenes
//! to compare with, the test camera, image differences and centroids, and the CLI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::plugin_support::{build_workspace, dylib, manifest, profile_dir, root};
use vksplat_core::{Frame, RenderSettings};
use vksplat_io::{Camera, Splats};
use vksplat_plugin_host::{EvalPath, Instance, Plugin, Scene, SearchPath};
use vksplat_tests::{camera, cli, compare, Gpu};

/// SH band-0 constant.
pub const C0: f64 = 0.282_094_791_773_878_14;

/// A directory holding the freshly built dynamic4d plugin and its manifest.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        build_workspace();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("vksplat-dynamic4d-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let lib = dylib("vksplat_dynamic4d");
        std::fs::copy(profile_dir().join(&lib), dir.join(&lib)).unwrap();
        manifest(&dir, "dynamic4d", 1, "vksplat_dynamic4d");
        dir
    })
}

/// A directory with the freshly built plugin and the repository's manifest, whose "reads"
/// pick it by content ([`plugin_dir`]'s manifest declares none).
pub fn detect_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        build_workspace();
        let dir = scratch("detect-plugin");
        let lib = dylib("vksplat_dynamic4d");
        std::fs::copy(profile_dir().join(&lib), dir.join(&lib)).unwrap();
        std::fs::copy(
            root().join("plugins/dynamic4d/dynamic4d.vksplat.json"),
            dir.join("dynamic4d.vksplat.json"),
        )
        .unwrap();
        dir
    })
}

/// `vksplat info SOURCE` with [`detect_dir`] and no `--plugin`: its stdout, after checking it
/// succeeded and holds every line of `want`.
pub fn cli_info_detected(source: &Path, want: &[&str]) -> String {
    let o = cli::vksplat(&[
        "info",
        source.to_str().unwrap(),
        "--plugin-dir",
        detect_dir().to_str().unwrap(),
    ]);
    cli::assert_exit(&o, 0);
    let out = cli::stdout(&o);
    for w in want {
        assert!(out.contains(w), "{}: no '{w}' in {out}", source.display());
    }
    out
}

/// The loaded plugin.
pub fn plugin() -> Arc<Plugin> {
    let search = SearchPath {
        dirs: vec![plugin_dir().to_path_buf()],
    };
    vksplat_plugin_host::load(&search, "dynamic4d").unwrap()
}

/// A scratch directory for this test process.
pub fn scratch(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dynamic4d-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An instance of the plugin on `path`.
pub fn open(path: &Path, params: &[(&str, &str)]) -> Instance {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Instance::open(plugin(), Some(path.to_str().unwrap()), &params).unwrap()
}

/// A camera at (0, 0, −3) looking down +z.
pub fn cam(width: u32, height: u32) -> Camera {
    let f = 0.8 * width as f32;
    let mut c = camera(width, height, f, f, width as f32 / 2.0, height as f32 / 2.0);
    c.world_to_camera[2][3] = 3.0;
    c
}

/// Black background, default mode.
pub fn settings() -> RenderSettings {
    RenderSettings {
        background: [0.0; 3],
        ..Default::default()
    }
}

/// One frame of the plugin's scene of `path` at time `t`.
pub fn render_file(
    gpu: &mut Gpu,
    path: &Path,
    eval: EvalPath,
    params: &[(&str, &str)],
    c: &Camera,
    t: f64,
) -> Frame {
    let mut scene = Scene::open_variant(&gpu.renderer, open(path, params), eval).unwrap();
    scene
        .render(&mut gpu.renderer, c, &settings(), t)
        .unwrap()
        .0
}

/// One frame of a static scene.
pub fn render_static(gpu: &mut Gpu, splats: &Splats, c: &Camera) -> Frame {
    let mut scene = Scene::upload(&gpu.renderer, splats, false).unwrap();
    scene
        .render(&mut gpu.renderer, c, &settings(), 0.0)
        .unwrap()
        .0
}

/// Largest and mean absolute difference over every channel.
pub fn diff(a: &Frame, b: &Frame) -> (f32, f64) {
    let (max, _) = compare(&a.rgba, &b.rgba, 0.0, 0.0);
    let sum: f64 = a
        .rgba
        .iter()
        .zip(&b.rgba)
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum();
    (max, sum / a.rgba.len() as f64)
}

/// The alpha-weighted centroid of a frame (pixel centres at +0.5) and its total alpha.
pub fn centroid(frame: &Frame, width: u32) -> ([f64; 2], f64) {
    let (mut w, mut x, mut y) = (0.0f64, 0.0f64, 0.0f64);
    for (i, p) in frame.rgba.chunks_exact(4).enumerate() {
        let a = f64::from(p[3]);
        w += a;
        x += a * ((i % width as usize) as f64 + 0.5);
        y += a * ((i / width as usize) as f64 + 0.5);
    }
    ([x / w, y / w], w)
}

/// Where [`cam`] projects world point `m`.
pub fn project(c: &Camera, m: [f64; 3]) -> [f64; 2] {
    let z = m[2] + 3.0;
    [
        f64::from(c.fx) * m[0] / z + f64::from(c.cx),
        f64::from(c.fy) * m[1] / z + f64::from(c.cy),
    ]
}

/// Pixels whose alpha exceeds 0.3.
pub fn covered(frame: &Frame) -> usize {
    frame.rgba.chunks_exact(4).filter(|p| p[3] > 0.3).count()
}

/// Runs `vksplat render FILE --plugin dynamic4d` (64×48) with the test's plugin directory.
pub fn cli_render(file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "render",
        file.to_str().unwrap(),
        "--plugin",
        "dynamic4d",
        "--plugin-dir",
        plugin_dir().to_str().unwrap(),
        "--width",
        "64",
        "--height",
        "48",
        "-o",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let mut cmd = cli::command(&args);
    cmd.env_remove("VKSPLAT_PLUGIN_PATH");
    cmd.output().expect("run vksplat")
}

/// Renders each bad file through the CLI: exit code 4, stderr naming the plugin, the file and
/// the expected problem.
pub fn assert_bad_files(dir: &Path, cases: &[(&str, PathBuf, &str)]) {
    let sources: Vec<(&str, PathBuf, PathBuf, &str)> = cases
        .iter()
        .map(|(what, path, expect)| (*what, path.clone(), path.clone(), *expect))
        .collect();
    assert_bad_sources(dir, &sources);
}

/// [`assert_bad_files`] for sources whose error names another file (`named`: a frame of a
/// sequence, say).
pub fn assert_bad_sources(dir: &Path, cases: &[(&str, PathBuf, PathBuf, &str)]) {
    for (what, source, named, expect) in cases {
        let out = dir.join("out.exr");
        let o = cli_render(source, &out, &[]);
        cli::assert_exit(&o, 4);
        let err = cli::stderr(&o);
        assert!(err.contains("dynamic4d"), "{what}: plugin not named: {err}");
        assert!(
            err.contains(named.to_str().unwrap()),
            "{what}: file not named: {err}"
        );
        assert!(
            err.contains(expect),
            "{what}: expected '{expect}' in: {err}"
        );
        assert!(!out.exists(), "{what}: an image was written");
    }
}
