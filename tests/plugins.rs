//! Scene-variant plugins: the Rust example (skinwave: time + two bone matrices), the plain-C
//! example (triangle: a vertex stream + time), GPU and CPU paths agreeing with each other and
//! with the CPU reference renderer, and every kind of broken plugin failing with a message that
//! names it while the host keeps working. The CLI side (`--plugin`, `plugins list|info`, exit
//! code 4) is at the end.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use plugin_support::{plugin_dir, profile_dir, BAD_C_PLUGINS};
use vksplat_core::{reference, RenderSettings, SplatExtras};
use vksplat_io::{Camera, Splats};
use vksplat_plugin_host::{
    EvalPath, HostSplats, Instance, Plugin, PluginError, SearchPath, VariantScene,
};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

fn search() -> SearchPath {
    SearchPath {
        dirs: vec![plugin_dir().to_path_buf()],
    }
}

fn load(name: &str) -> Result<Arc<Plugin>, PluginError> {
    vksplat_plugin_host::load(&search(), name)
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A camera at (0, 0, -3) looking down +z.
fn cam_back(width: u32, height: u32) -> Camera {
    let mut c = camera(
        width,
        height,
        150.0,
        150.0,
        width as f32 / 2.0,
        height as f32 / 2.0,
    );
    c.world_to_camera[2][3] = 3.0;
    c
}

/// The scene a plugin's CPU frame describes, as plain splats + extras for the reference
/// renderer.
#[allow(clippy::needless_update)] // Splats may grow fields
fn reference_scene(inst: &Instance, host: &HostSplats) -> (Splats, SplatExtras) {
    let d = &inst.desc;
    let n = d.splat_count;
    let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
    let pick = |out: &Option<Vec<f32>>, init: &Option<Vec<f32>>, len: usize, fill: f32| {
        out.clone()
            .or_else(|| init.clone())
            .unwrap_or_else(|| vec![fill; len])
    };
    let i = &d.initial;
    let means = pick(&host.means, &i.means, n * 3, 0.0);
    let rotations = pick(&host.rotations, &i.rotations, n * 4, 0.0);
    let log_scales = pick(&host.log_scales, &i.log_scales, n * 3, 0.0);
    let splats = Splats {
        means: means.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        rotations: rotations
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect(),
        log_scales: log_scales
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect(),
        opacity_logits: pick(&host.opacity_logits, &i.opacity_logits, n, 0.0),
        sh_degree: d.sh_degree,
        sh: pick(&host.sh, &i.sh, n * k * 3, 0.0),
        ..Default::default()
    };
    let extras = SplatExtras {
        covariances: d.covariance.then(|| {
            pick(&host.covariances, &i.covariances, n * 6, 0.0)
                .chunks_exact(6)
                .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
                .collect()
        }),
        opacity_scale: d
            .opacity_scale
            .then(|| pick(&host.opacity_scale, &i.opacity_scale, n, 1.0)),
    };
    (splats, extras)
}

fn assert_close(what: &str, gpu: &Option<Vec<f32>>, cpu: &Option<Vec<f32>>) {
    match (gpu, cpu) {
        (None, None) => {}
        (Some(g), Some(c)) => {
            let (max, bad) = compare(g, c, 2e-5, 2e-4);
            assert!(
                bad == 0.0,
                "{what}: GPU and CPU paths differ (max {max}, {bad} of values)"
            );
        }
        _ => panic!("{what}: written by one path only"),
    }
}

/// Runs a plugin on both paths at several times: the arrays agree, the images agree with each
/// other and with the CPU reference renderer, and time changes the image.
fn check_paths_agree(name: &str, params: &[(&str, &str)], times: &[f64], cam: &Camera) {
    let Some(mut gpu) = Gpu::new() else { return };
    let plugin = load(name).unwrap();
    let open = || Instance::open(plugin.clone(), None, &kv(params)).unwrap();
    let mut on_gpu = VariantScene::new(&gpu.renderer, open(), EvalPath::Gpu).unwrap();
    let mut on_cpu = VariantScene::new(&gpu.renderer, open(), EvalPath::Cpu).unwrap();
    assert_eq!(on_gpu.path(), EvalPath::Gpu);
    assert_eq!(on_cpu.path(), EvalPath::Cpu);
    let mut reference_inst = open();
    let settings = RenderSettings {
        background: [0.1, 0.1, 0.1],
        ..Default::default()
    };
    let mut images = Vec::new();
    for &t in times {
        on_gpu.evaluate(&gpu.renderer, t).unwrap();
        on_cpu.evaluate(&gpu.renderer, t).unwrap();
        let g = on_gpu.download_outputs(&gpu.renderer).unwrap();
        let c = on_cpu.download_outputs(&gpu.renderer).unwrap();
        let host = reference_inst.cpu_frame(t).unwrap();
        assert_eq!(
            c, host,
            "{name}: the CPU path uploads what the plugin wrote"
        );
        assert_close(&format!("{name} t={t} means"), &g.means, &c.means);
        assert_close(
            &format!("{name} t={t} rotations"),
            &g.rotations,
            &c.rotations,
        );
        assert_close(
            &format!("{name} t={t} log_scales"),
            &g.log_scales,
            &c.log_scales,
        );
        assert_close(
            &format!("{name} t={t} covariances"),
            &g.covariances,
            &c.covariances,
        );
        assert_close(
            &format!("{name} t={t} opacity_scale"),
            &g.opacity_scale,
            &c.opacity_scale,
        );

        // Rendering goes through the variant stage inside the frame on the GPU path.
        let (fg, _) = on_gpu.render(&mut gpu.renderer, cam, &settings, t).unwrap();
        let (fc, _) = on_cpu.render(&mut gpu.renderer, cam, &settings, t).unwrap();
        let (max, bad) = compare(&fg.rgba, &fc.rgba, 1e-3, 1e-2);
        assert!(
            bad < 1e-3,
            "{name} t={t}: GPU vs CPU path images: {bad} differ, max {max}"
        );
        let (splats, extras) = reference_scene(&reference_inst, &host);
        let want = reference::render_ext(&splats, &extras, cam, &settings);
        let (max, bad) = compare(&fc.rgba, &want.rgba, 2e-4, 2e-3);
        assert!(
            bad < 1e-3,
            "{name} t={t}: vs reference: {bad} differ, max {max}"
        );
        let covered = fc.rgba.chunks_exact(4).filter(|p| p[3] > 0.5).count();
        assert!(covered > 100, "{name} t={t}: only {covered} pixels covered");
        images.push(fc.rgba);
    }
    let (max, _) = compare(&images[0], &images[images.len() - 1], 0.0, 0.0);
    assert!(
        max > 0.05,
        "{name}: time had no effect on the image ({max})"
    );
}

fn rot_z(angle: f32, t: [f32; 3]) -> [f32; 16] {
    let (s, c) = angle.sin_cos();
    [
        c, -s, 0., t[0], s, c, 0., t[1], 0., 0., 1., t[2], 0., 0., 0., 1.,
    ]
}

fn join(v: &[f32]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn rust_plugin_skinwave_gpu_and_cpu_paths_agree() {
    let mut bones = rot_z(0.0, [0.0; 3]).to_vec();
    bones.extend(rot_z(0.5, [0.05, 0.1, 0.2]));
    let bones = join(&bones);
    check_paths_agree(
        "skinwave",
        &[
            ("count", "3000"),
            ("amplitude", "0.15"),
            ("frequency", "0.8"),
            ("bones", &bones),
        ],
        &[0.0, 0.4, 1.3],
        &cam_back(160, 120),
    );
}

#[test]
fn c_plugin_triangle_gpu_and_cpu_paths_agree() {
    // Time drives the default (spinning) triangle.
    check_paths_agree(
        "triangle",
        &[("count", "1500")],
        &[0.0, 0.9],
        &camera(160, 120, 150.0, 150.0, 80.0, 60.0),
    );
}

#[test]
fn c_plugin_triangle_follows_a_vertex_stream() {
    let Some(mut gpu) = Gpu::new() else { return };
    let plugin = load("triangle").unwrap();
    let inst = Instance::open(plugin, None, &kv(&[("count", "800")])).unwrap();
    let mut scene = VariantScene::new(&gpu.renderer, inst, EvalPath::Gpu).unwrap();
    let cam = camera(120, 90, 110.0, 110.0, 60.0, 45.0);
    let settings = RenderSettings::default();
    let mut centroids = Vec::new();
    for shift in [-0.3f32, 0.3] {
        let v = [
            -0.5 + shift,
            -0.4,
            3.0,
            0.5 + shift,
            -0.4,
            3.0,
            shift,
            0.5,
            3.0,
        ];
        scene.instance_mut().set_param("vertices", &v).unwrap();
        let (frame, _) = scene
            .render(&mut gpu.renderer, &cam, &settings, 0.0)
            .unwrap();
        let (mut sx, mut w) = (0.0, 0.0);
        for (i, p) in frame.rgba.chunks_exact(4).enumerate() {
            sx += p[3] as f64 * (i % 120) as f64;
            w += p[3] as f64;
        }
        centroids.push(sx / w);
    }
    // 0.6 world units at z = 3 with fx = 110 is 22 pixels.
    let moved = centroids[1] - centroids[0];
    assert!((moved - 22.0).abs() < 3.0, "image moved {moved} px");
    // Invalid values are rejected with the plugin's name and the parameter's.
    let err = scene
        .instance_mut()
        .set_param("vertices", &[0.0; 6])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("triangle") && err.contains("vertices"),
        "{err}"
    );
    let err = scene
        .instance_mut()
        .set_param("spin", &[99.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside"), "{err}");
}

#[test]
fn plugins_are_loaded_once_and_never_unloaded() {
    let a = load("skinwave").unwrap();
    let b = load("skinwave").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a.abi_version, vksplat_abi::VKSPLAT_PLUGIN_ABI_VERSION);
    assert_eq!(a.version, "0.1.0");
    // Instances come and go; the library stays.
    for _ in 0..3 {
        drop(Instance::open(a.clone(), None, &kv(&[("count", "10")])).unwrap());
    }
    let err = Instance::open(a.clone(), None, &kv(&[("nope", "1")]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("skinwave") && err.contains("nope"), "{err}");
}

#[test]
fn listing_reads_manifests_only() {
    let found = search().discover();
    let names: Vec<String> = found
        .iter()
        .filter_map(|f| f.manifest.as_ref().ok().map(|m| m.name.clone()))
        .collect();
    for want in [
        "skinwave",
        "triangle",
        "panics",
        "bad-missing-lib",
        "bad-manifest-abi",
    ] {
        assert!(names.contains(&want.to_string()), "{want} not in {names:?}");
    }
    let abi = found
        .iter()
        .find_map(|f| {
            f.manifest
                .as_ref()
                .ok()
                .filter(|m| m.name == "bad-manifest-abi")
        })
        .unwrap();
    assert!(!abi.abi_supported());
}

/// What each broken plugin must fail with: (name, phase, expected text, error class).
fn expectations() -> Vec<(&'static str, &'static str)> {
    vec![
        ("bad-no-entry", "no vksplat_plugin_negotiate entry point"),
        ("bad-abi-old", "speaks plugin ABI version 0 (too old)"),
        ("bad-abi-new", "speaks plugin ABI version 99 (too new)"),
        ("bad-small-table", "VksplatPluginApi has at least 88 bytes"),
        (
            "bad-open-error",
            "open failed: cannot read the source: bad magic number",
        ),
        ("bad-shader-syntax", "shader 'bad-shader-syntax.comp'"),
        ("bad-shader-binding", "declares binding 12"),
        ("bad-nan", "NaN into means of splat 7"),
        ("bad-fingerprint", "different vksplat ABI layout"),
        (
            "bad-shader-alias",
            "binding 0 is declared twice (VkspMeans and Rest)",
        ),
        ("bad-spirv", "invalid SPIR-V (SPIRV-Tools validator"),
        (
            "bad-param-default",
            "describe: parameter 'gain': default 2 is outside [0, 1]",
        ),
        ("bad-missing-lib", "does not exist"),
        ("bad-manifest-abi", "needs plugin ABI version 99"),
        (
            "panics",
            "panicked in cpu_frame: deliberate panic at time 0.5",
        ),
    ]
}

/// Loads, opens, builds and renders one plugin scene on the given path.
fn try_plugin(gpu: &mut Gpu, name: &str, path: EvalPath) -> Result<(), PluginError> {
    let plugin = load(name)?;
    let inst = Instance::open(plugin, None, &[])?;
    let mut scene = VariantScene::new(&gpu.renderer, inst, path)?;
    let cam = camera(64, 48, 60.0, 60.0, 32.0, 24.0);
    scene.render(&mut gpu.renderer, &cam, &RenderSettings::default(), 0.5)?;
    Ok(())
}

#[test]
fn bad_plugins_fail_with_their_name_and_the_host_keeps_working() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(3);
    let splats = random_scene(&mut rng, 500, 1);
    let cam = camera(96, 72, 90.0, 90.0, 48.0, 36.0);
    let settings = RenderSettings::default();
    let want = reference::render(&splats, &cam, &settings);
    assert_eq!(expectations().len(), BAD_C_PLUGINS.len() + 3);
    for (name, text) in expectations() {
        let paths: &[EvalPath] = match name {
            "bad-nan" => &[EvalPath::Gpu, EvalPath::Cpu],
            "panics" => &[EvalPath::Cpu],
            _ => &[EvalPath::Auto],
        };
        for &path in paths {
            let err = try_plugin(&mut gpu, name, path).expect_err(name);
            let message = err.to_string();
            assert!(err.is_plugin_fault(), "{name}: {message}");
            assert!(message.contains(&format!("'{name}'")), "{name}: {message}");
            let text = if name == "bad-nan" && path == EvalPath::Gpu {
                "NaN into means of splat 0"
            } else {
                text
            };
            assert!(
                message.contains(text),
                "{name} ({path:?}): expected '{text}' in: {message}"
            );
            // Shader refusals are shader errors (the C API's VKSPLAT_ERROR_SHADER).
            if name.starts_with("bad-shader") || name == "bad-spirv" {
                assert!(matches!(err, PluginError::Shader(_)), "{name}: {err:?}");
            }
            // The process is intact: a plain scene still renders correctly.
            let scene = gpu.renderer.upload_scene(&splats).unwrap();
            let (frame, _) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
            let (max, bad) = compare(&frame.rgba, &want.rgba, 2e-4, 2e-3);
            assert!(bad < 1e-3, "after {name}: {bad} differ, max {max}");
        }
    }
    // A good plugin still loads and renders after all that.
    try_plugin(&mut gpu, "triangle", EvalPath::Gpu).unwrap();
}

// ---------------------------------------------------------------------------------------------
// CLI

fn vksplat(args: &[&str]) -> std::process::Output {
    let bin = profile_dir().join(format!("vksplat{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        plugin_support::build_workspace();
    }
    Command::new(bin)
        .args(args)
        .env("VKSPLAT_VALIDATION", "1")
        .env_remove("VKSPLAT_PLUGIN_PATH")
        .output()
        .expect("run vksplat")
}

fn out_dir(tag: &str) -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugins-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn cli_lists_and_describes_plugins() {
    let dir = plugin_dir().to_str().unwrap();
    let out = vksplat(&["plugins", "list", "--plugin-dir", dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "skinwave",
        "triangle",
        "bad-missing-lib",
        "bad-manifest-abi",
    ] {
        assert!(stdout.contains(want), "{want} missing from:\n{stdout}");
    }
    assert!(stdout.contains("ABI 99"), "{stdout}");
    // The variable works too.
    let bin = profile_dir().join(format!("vksplat{}", std::env::consts::EXE_SUFFIX));
    let out = Command::new(bin)
        .args(["plugins", "list"])
        .env("VKSPLAT_PLUGIN_PATH", dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("skinwave"));

    let out = vksplat(&["plugins", "info", "skinwave", "--plugin-dir", dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in ["bones", "amplitude", "16 float", "gpu", "cpu", "covariance"] {
        assert!(stdout.contains(want), "{want} missing from:\n{stdout}");
    }
    let out = vksplat(&["plugins", "info", "bad-abi-new", "--plugin-dir", dir]);
    assert_eq!(out.status.code(), Some(4));
    let out = vksplat(&["plugins", "info", "nonexistent", "--plugin-dir", dir]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonexistent"));
}

#[test]
fn cli_renders_plugins_with_params_and_time() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = plugin_dir().to_str().unwrap();
    let out = out_dir("render");
    let mut sums = Vec::new();
    for (plugin, time, extra) in [
        (
            "skinwave",
            "0",
            vec!["--param", "amplitude=0.2", "--param", "count=2000"],
        ),
        (
            "skinwave",
            "1.1",
            vec!["--param", "amplitude=0.2", "--param", "count=2000"],
        ),
        ("triangle", "0.5", vec!["--param", "spin=2"]),
    ] {
        let file = out.join(format!("{plugin}-{time}.exr"));
        let mut args = vec![
            "render",
            "--plugin",
            plugin,
            "--plugin-dir",
            dir,
            "--time",
            time,
            "--width",
            "96",
            "--height",
            "72",
            "-o",
            file.to_str().unwrap(),
            "--quiet",
        ];
        args.extend(extra.iter().copied());
        let o = vksplat(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{plugin}: {stderr}");
        assert!(!stderr.contains("validation error"), "{stderr}");
        let img = vksplat_io::read_exr(&file).unwrap();
        let a = &img
            .channels
            .iter()
            .find(|(n, _)| n == "A")
            .expect("A channel")
            .1;
        sums.push(a.iter().map(|v| *v as f64).sum::<f64>());
    }
    assert!(sums.iter().all(|s| *s > 1.0), "{sums:?}");
    assert!(
        (sums[0] - sums[1]).abs() > 1e-3,
        "--time had no effect: {sums:?}"
    );
}

#[test]
fn cli_bad_plugins_exit_with_code_4_naming_the_plugin() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let dir = plugin_dir().to_str().unwrap();
    let out = out_dir("bad");
    let file = out.join("bad.png");
    let file = file.to_str().unwrap();
    for (name, text) in expectations() {
        let o = vksplat(&[
            "render",
            "--plugin",
            name,
            "--plugin-dir",
            dir,
            "--time",
            "0.5",
            "--width",
            "32",
            "--height",
            "24",
            "-o",
            file,
            "--quiet",
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{name}: {stderr}");
        assert!(stderr.contains(&format!("'{name}'")), "{name}: {stderr}");
        let text = if name == "bad-nan" {
            "NaN into means"
        } else {
            text
        };
        assert!(
            stderr.contains(text),
            "{name}: expected '{text}' in {stderr}"
        );
        assert!(!Path::new(file).exists(), "{name}: wrote an image");
    }
    // Bad parameters fail when the plugin is opened, with exit code 4 and a message naming
    // the plugin, the parameter and what is wrong: out-of-range values of frame parameters
    // (amplitude) and of open parameters (count), unknown names, malformed values.
    for (arg, want) in [
        ("amplitude=5", "parameter 'amplitude': 5 is outside [0, 1]"),
        (
            "count=2000000",
            "parameter 'count': 2000000 is outside [1, 1000000]",
        ),
        ("count=0", "parameter 'count': 0 is outside [1, 1000000]"),
        ("frequency=nan", "parameter 'frequency': NaN is not finite"),
        ("nope=1", "unknown parameter 'nope'"),
        (
            "bones=1,2,3",
            "3 floats is not a whole number of 16-float elements",
        ),
        ("amplitude", "--param 'amplitude' is not KEY=VALUE"),
    ] {
        let o = vksplat(&[
            "render",
            "--plugin",
            "skinwave",
            "--plugin-dir",
            dir,
            "-o",
            file,
            "--quiet",
            "--param",
            arg,
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{arg}: {stderr}");
        assert!(
            stderr.contains("plugin 'skinwave'") && stderr.contains(want),
            "{arg}: expected '{want}' in {stderr}"
        );
        assert!(!Path::new(file).exists(), "{arg}: wrote an image");
    }
}

#[test]
fn cli_log_lines_follow_verbose_and_quiet() {
    let dir = plugin_dir().to_str().unwrap();
    // The logger plugin logs these when opened (its warning has a newline, which cannot start
    // a line of its own).
    let info = "info: plugin 'logger': logger opened with 64 splats";
    let warning = "warning: plugin 'logger': logger says: this is a test warning";
    // `plugins info` opens an instance without a device; -v/-q go before or after the command.
    for (before, after, shows_info) in [
        (&["-v"][..], &[][..], true),
        (&[][..], &["--verbose"][..], true),
        (&[][..], &[][..], false),
        (&["-q"][..], &[][..], false),
        (&[][..], &["-q", "-vv"][..], false),
    ] {
        let mut args = before.to_vec();
        args.extend(["plugins", "info", "logger", "--plugin-dir", dir]);
        args.extend(after);
        let o = vksplat(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?}: {stderr}");
        assert_eq!(stderr.contains(info), shows_info, "{args:?}: {stderr}");
        assert!(stderr.contains(warning), "{args:?}: {stderr}");
        assert!(
            stderr
                .lines()
                .all(|l| l.starts_with("info: ") || l.starts_with("warning: ")),
            "{args:?}: {stderr}"
        );
    }
    // The engine's own information (the device it renders on) follows the same switch.
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let file = out_dir("log").join("log.png");
    for (flag, verbose) in [("-v", true), ("-q", false)] {
        let o = vksplat(&[
            "render",
            "--plugin",
            "logger",
            "--plugin-dir",
            dir,
            "--width",
            "32",
            "--height",
            "24",
            "-o",
            file.to_str().unwrap(),
            flag,
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{flag}: {stderr}");
        let device_line = stderr
            .lines()
            .any(|l| l.starts_with("info: ") && l.contains("Vulkan device"));
        assert_eq!(device_line, verbose, "{flag}: {stderr}");
        assert_eq!(stderr.contains(info), verbose, "{flag}: {stderr}");
        assert!(stderr.contains(warning), "{flag}: {stderr}");
    }
}

/// The line of `plugins list` output for the manifest at `path`.
fn listed<'a>(stdout: &'a str, path: &Path) -> &'a str {
    let path = path.display().to_string();
    stdout
        .lines()
        .find(|l| l.split('\t').nth(4) == Some(path.as_str()))
        .unwrap_or_else(|| panic!("{path} not listed:\n{stdout}"))
}

#[test]
fn cli_finds_the_bundled_plugins_without_flags() {
    // Building vksplat puts the plugins of plugins/ beside it (plugins/bundled/build.rs).
    plugin_support::build_workspace();
    let profile = profile_dir().canonicalize().unwrap();
    let out = vksplat(&["plugins", "list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["skinwave", "triangle"] {
        let line = listed(&stdout, &profile.join(format!("{name}.vksplat.json")));
        assert!(
            line.starts_with(&format!("{name}\t")) && line.contains("\tok\t"),
            "{line}"
        );
    }
    // --plugin-dir comes first: its skinwave wins and the bundled one is listed as shadowed;
    // using it does not warn (overriding a bundled plugin is what --plugin-dir is for).
    let dir = plugin_dir().canonicalize().unwrap();
    let d = dir.to_str().unwrap();
    let out = vksplat(&["plugins", "list", "--plugin-dir", d]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ours = dir.join("skinwave.vksplat.json");
    let line = listed(&stdout, &profile.join("skinwave.vksplat.json"));
    assert!(
        line.contains(&format!("shadowed by {}", ours.display())),
        "{line}"
    );
    let out = vksplat(&["plugins", "info", "skinwave", "--plugin-dir", d]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("manifest: {}", ours.display())),
        "{stdout}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");

    // The README's command: a bundled plugin by name, no flags.
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let file = out_dir("bundled").join("skinwave.exr");
    let o = vksplat(&[
        "render",
        "--plugin",
        "skinwave",
        "--width",
        "64",
        "--height",
        "48",
        "-o",
        file.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(!stderr.contains("validation error"), "{stderr}");
    let img = vksplat_io::read_exr(&file).unwrap();
    let alpha: f64 = img
        .channels
        .iter()
        .find(|(n, _)| n == "A")
        .expect("A channel")
        .1
        .iter()
        .map(|v| *v as f64)
        .sum();
    assert!(
        alpha > 10.0,
        "the bundled skinwave rendered nothing ({alpha})"
    );
}

/// An installed layout: PREFIX/bin/vksplat finds PREFIX/lib/vksplat/plugins, under the same
/// trust checks as any plugin directory.
#[cfg(unix)]
#[test]
fn cli_finds_plugins_in_an_installed_layout() {
    plugin_support::build_workspace();
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugins-installed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let (bin, lib) = (prefix.join("bin"), prefix.join("lib/vksplat/plugins"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&lib).unwrap();
    let exe = bin.join("vksplat");
    let built = profile_dir().join("vksplat");
    if std::fs::hard_link(&built, &exe).is_err() {
        std::fs::copy(&built, &exe).unwrap();
    }
    let triangle = plugin_support::dylib("vksplat_triangle");
    std::fs::copy(plugin_dir().join(&triangle), lib.join(&triangle)).unwrap();
    std::fs::copy(
        plugin_support::root().join("plugins/c-triangle/triangle.vksplat.json"),
        lib.join("triangle.vksplat.json"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(&exe)
            .args(args)
            .env_remove("VKSPLAT_PLUGIN_PATH")
            .env_remove(vksplat_plugin_host::ALLOW_INSECURE_VAR)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let manifest = lib.canonicalize().unwrap().join("triangle.vksplat.json");
    let (code, stdout, stderr) = run(&["plugins", "list"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(listed(&stdout, &manifest).contains("\tok\t"), "{stdout}");
    let (code, stdout, stderr) = run(&["plugins", "info", "triangle"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("name: triangle"), "{stdout}");
    // Others can add manifests to a world-writable directory: refused, as everywhere.
    chmod(&lib, 0o777);
    let (code, _, stderr) = run(&["plugins", "info", "triangle"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("chmod o-w"), "{stderr}");
    chmod(&lib, 0o755);
}

/// The plugin author's guide and variant.glsl's comments document every engine binding as the
/// host enforces it (vksplat_plugin_host::reflect::ENGINE_BINDINGS), and what the shader is told.
#[test]
fn the_guide_documents_the_variant_stage() {
    use vksplat_plugin_host::reflect::{output_name, ENGINE_BINDINGS};
    let read = |p: &str| std::fs::read_to_string(plugin_support::root().join(p)).unwrap();
    let guide = read("PLUGINS.md");
    let glsl = read("shaders/include/variant.glsl");
    for (i, e) in ENGINE_BINDINGS.iter().enumerate() {
        let row = format!("| {i} | `{}` | `{} {}[]`", e.name, e.element, e.name);
        let line = guide
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("PLUGINS.md has no row '{row} …'"));
        assert!(line.contains(output_name(e.output)), "{line}");
        // variant.glsl: the declaration and a comment line naming the array and its output.
        assert!(
            glsl.contains(&format!("buffer {} {{", e.block))
                && glsl.contains(&format!("{} {}[];", e.element, e.name)),
            "variant.glsl does not declare {e:?}"
        );
        assert!(
            glsl.lines().any(|l| l.starts_with("//")
                && l.contains(e.name)
                && l.contains(output_name(e.output))),
            "variant.glsl's comments do not document {}",
            e.name
        );
    }
    for (what, text) in [
        (
            "first plugin binding",
            format!(
                "`VKSPLAT_FIRST_PLUGIN_BINDING` ({})",
                vksplat_abi::VKSPLAT_FIRST_PLUGIN_BINDING
            ),
        ),
        (
            "push-constant limit",
            format!(
                "`VKSPLAT_MAX_PUSH_CONSTANT_SIZE` = {} bytes",
                vksplat_abi::VKSPLAT_MAX_PUSH_CONSTANT_SIZE
            ),
        ),
        (
            "workgroup limit",
            format!(
                "`local_size_x` at most {}",
                vksplat_abi::VKSPLAT_MAX_WORKGROUP_INVOCATIONS
            ),
        ),
        ("splat count", "no splat count".to_string()),
        ("SH layout", "`sh_r[i·K + k]`".to_string()),
        ("read rule", "never read an array you".to_string()),
    ] {
        assert!(guide.contains(&text), "PLUGINS.md: {what}: no '{text}'");
    }
    for text in [
        "no splat count",
        "sh_c[i * K + k]",
        "VKSPLAT_FIRST_PLUGIN_BINDING",
    ] {
        assert!(glsl.contains(text), "variant.glsl: no '{text}'");
    }
}

// ---------------------------------------------------------------------------------------------
// Trust: what the host checks before it loads a library (whose constructors run on loading).

/// One trust scenario: `root/plugins` holds a copy of the marker plugin's library and its
/// manifest; `marker` is the file the library's constructor writes when it is loaded.
#[cfg(unix)]
struct TrustCase {
    root: std::path::PathBuf,
    plugins: std::path::PathBuf,
    marker: std::path::PathBuf,
}

#[cfg(unix)]
impl TrustCase {
    fn new(tag: &str) -> TrustCase {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("plugins-trust-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let plugins = root.join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        let case = TrustCase {
            marker: root.join("loaded.txt"),
            root,
            plugins,
        };
        case.install(&case.plugins, "vksplat_marker");
        case
    }

    /// Copies the marker library into `dir` and writes a manifest whose `library` is `library`.
    fn install(&self, dir: &Path, library: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(
            plugin_support::marker_library(),
            dir.join(plugin_support::dylib("vksplat_marker")),
        )
        .unwrap();
        plugin_support::manifest(dir, "marker", 1, library);
    }

    fn manifest(&self) -> std::path::PathBuf {
        self.plugins.join("marker.vksplat.json")
    }

    fn library(&self) -> std::path::PathBuf {
        self.plugins.join(plugin_support::dylib("vksplat_marker"))
    }

    /// Runs vksplat with the marker variable set (and no inherited plugin settings): exit
    /// code, stdout, stderr, and whether the library was loaded.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String, bool) {
        let _ = std::fs::remove_file(&self.marker);
        let bin = profile_dir().join(format!("vksplat{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            plugin_support::build_workspace();
        }
        let out = Command::new(bin)
            .args(args)
            .env(plugin_support::LOAD_MARKER_VAR, &self.marker)
            .env_remove("VKSPLAT_PLUGIN_PATH")
            .env_remove(vksplat_plugin_host::ALLOW_INSECURE_VAR)
            .envs(env.iter().copied())
            .output()
            .expect("run vksplat");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            self.marker.exists(),
        )
    }

    /// `vksplat plugins info marker --plugin-dir DIR …`.
    fn info(
        &self,
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> (Option<i32>, String, String, bool) {
        let mut args = vec![
            "plugins",
            "info",
            "marker",
            "--plugin-dir",
            dir.to_str().unwrap(),
        ];
        args.extend(extra);
        self.run(&args, env)
    }
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn cli_refuses_world_writable_plugin_files_before_loading_them() {
    // Control: a private plugin loads, and loading it runs its constructor.
    let case = TrustCase::new("control");
    let (code, stdout, stderr, loaded) = case.info(&case.plugins, &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("name: marker"), "{stdout}");
    assert!(loaded, "the marker library's constructor did not run");
    assert!(!stderr.contains("warning"), "{stderr}");

    for (what, mode) in [("dir", 0o777), ("manifest", 0o666), ("library", 0o777)] {
        let case = TrustCase::new(&format!("ow-{what}"));
        let target = match what {
            "dir" => case.plugins.clone(),
            "manifest" => case.manifest(),
            _ => case.library(),
        };
        chmod(&target, mode);
        let shown = target.display().to_string();
        let (code, _, stderr, loaded) = case.info(&case.plugins, &[], &[]);
        assert_eq!(code, Some(4), "{what}: {stderr}");
        assert!(!loaded, "{what}: the library was loaded before the refusal");
        assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr}");
        for want in [
            "ERROR",
            "'marker'",
            &format!("{shown} is writable by every user"),
            &format!("chmod o-w {shown}"),
            "--allow-insecure-plugins",
            vksplat_plugin_host::ALLOW_INSECURE_VAR,
        ] {
            assert!(stderr.contains(want), "{what}: '{want}' not in: {stderr}");
        }
        // `plugins list` shows it as insecure (and loads nothing).
        let (code, stdout, stderr, loaded) = case.run(
            &[
                "plugins",
                "list",
                "--plugin-dir",
                case.plugins.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(code, Some(0), "{what}: {stderr}");
        assert!(!loaded);
        assert!(
            stdout.contains("insecure") && stdout.contains(&shown),
            "{what}: {stdout}"
        );
        // The flag and the variable downgrade the refusal to a warning naming the path.
        for (flag, env) in [
            (&["--allow-insecure-plugins"][..], &[][..]),
            (
                &[][..],
                &[(vksplat_plugin_host::ALLOW_INSECURE_VAR, "1")][..],
            ),
        ] {
            let (code, _, stderr, loaded) = case.info(&case.plugins, flag, env);
            assert_eq!(code, Some(0), "{what} {flag:?} {env:?}: {stderr}");
            assert!(loaded, "{what}: not loaded with {flag:?} {env:?}");
            assert!(
                stderr.contains("warning:") && stderr.contains(&shown),
                "{what}: {stderr}"
            );
        }
        // "0" does not allow.
        let (code, _, _, loaded) = case.info(
            &case.plugins,
            &[],
            &[(vksplat_plugin_host::ALLOW_INSECURE_VAR, "0")],
        );
        assert_eq!((code, loaded), (Some(4), false), "{what}");
    }

    // `render --plugin` goes through the same checks, before the device matters.
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let case = TrustCase::new("ow-render");
    chmod(&case.plugins, 0o777);
    let file = case.root.join("out.png");
    let (code, _, stderr, loaded) = case.run(
        &[
            "render",
            "--plugin",
            "marker",
            "--plugin-dir",
            case.plugins.to_str().unwrap(),
            "--width",
            "32",
            "--height",
            "24",
            "-o",
            file.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert_eq!(code, Some(4), "{stderr}");
    assert!(!loaded && !file.exists(), "{stderr}");
    assert!(stderr.contains("chmod o-w"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn cli_checks_the_directories_above_the_plugin_directory() {
    let case = TrustCase::new("above");
    let parent = case.root.clone();
    chmod(&parent, 0o777);
    let (code, _, stderr, loaded) = case.info(&case.plugins, &[], &[]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(!loaded);
    assert!(
        stderr.contains(&format!("chmod o-w {}", parent.display())),
        "{stderr}"
    );
    // A sticky world-writable directory above (like /tmp) is fine: others cannot rename or
    // replace what they do not own in it.
    chmod(&parent, 0o1777);
    let (code, _, stderr, loaded) = case.info(&case.plugins, &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(loaded);
    // The plugin directory itself may not be, sticky or not: others could add manifests.
    chmod(&parent, 0o755);
    chmod(&case.plugins, 0o1777);
    let (code, _, stderr, loaded) = case.info(&case.plugins, &[], &[]);
    assert_eq!((code, loaded), (Some(4), false), "{stderr}");
}

#[cfg(unix)]
#[test]
fn cli_refuses_libraries_outside_the_manifest_directory() {
    let lib = plugin_support::dylib("vksplat_marker");
    let case = TrustCase::new("outside");
    let manifest = case.manifest().display().to_string();

    // Absolute paths and '..' are refused by syntax, even when they lead back inside, and
    // even with --allow-insecure-plugins.
    for (library, why) in [
        (
            case.library().to_str().unwrap().to_string(),
            "is an absolute path",
        ),
        (format!("../plugins/{lib}"), "contains a '..' component"),
        (
            format!("sub/../../plugins/{lib}"),
            "contains a '..' component",
        ),
    ] {
        plugin_support::manifest(&case.plugins, "marker", 1, &library);
        for extra in [&[][..], &["--allow-insecure-plugins"][..]] {
            let (code, _, stderr, loaded) = case.info(&case.plugins, extra, &[]);
            assert_eq!(code, Some(4), "{library}: {stderr}");
            assert!(!loaded, "{library}: loaded");
            for want in [&manifest, "field \"library\"", &library, why] {
                assert!(stderr.contains(want), "{library}: '{want}' not in {stderr}");
            }
        }
    }

    // A symlink that leads out of the directory counts as outside.
    let outside = case.root.join("outside");
    case.install(&outside, "vksplat_marker");
    plugin_support::manifest(&case.plugins, "marker", 1, "vksplat_marker");
    std::fs::remove_file(case.library()).unwrap();
    std::os::unix::fs::symlink(format!("../outside/{lib}"), case.library()).unwrap();
    for extra in [&[][..], &["--allow-insecure-plugins"][..]] {
        let (code, _, stderr, loaded) = case.info(&case.plugins, extra, &[]);
        assert_eq!(code, Some(4), "{stderr}");
        assert!(!loaded, "loaded through a symlink out of the directory");
        for want in [
            manifest.as_str(),
            "field \"library\"",
            "outside the manifest's directory",
            &outside
                .join(&lib)
                .canonicalize()
                .unwrap()
                .display()
                .to_string(),
        ] {
            assert!(stderr.contains(want), "'{want}' not in {stderr}");
        }
    }

    // Symlinks inside are fine (a versioned file name), a symlinked plugin directory too; the
    // real file's permissions are what counts.
    std::fs::remove_file(case.library()).unwrap();
    let versioned = case.plugins.join(format!("{lib}.1"));
    std::fs::copy(plugin_support::marker_library(), &versioned).unwrap();
    std::os::unix::fs::symlink(format!("{lib}.1"), case.library()).unwrap();
    let linked_dir = case.root.join("linked");
    std::os::unix::fs::symlink("plugins", &linked_dir).unwrap();
    for dir in [&case.plugins, &linked_dir] {
        let (code, _, stderr, loaded) = case.info(dir, &[], &[]);
        assert_eq!(code, Some(0), "{}: {stderr}", dir.display());
        assert!(loaded);
    }
    chmod(&versioned, 0o777);
    let (code, _, stderr, loaded) = case.info(&case.plugins, &[], &[]);
    assert_eq!((code, loaded), (Some(4), false), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "chmod o-w {}",
            versioned.canonicalize().unwrap().display()
        )),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn cli_says_which_of_two_same_named_plugins_wins() {
    let case = TrustCase::new("shadow");
    let (a, b) = (case.root.join("a"), case.root.join("b"));
    case.install(&a, "vksplat_marker");
    case.install(&b, "vksplat_marker");
    let (ma, mb) = (a.join("marker.vksplat.json"), b.join("marker.vksplat.json"));
    let (sa, sb) = (ma.display().to_string(), mb.display().to_string());
    let (da, db) = (a.to_str().unwrap(), b.to_str().unwrap());

    let warned = |stderr: &str, winner: &str, loser: &str| {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("warning:") && l.contains("'marker'"))
            .unwrap_or_else(|| panic!("no warning in: {stderr}"));
        assert!(
            line.contains(&format!("using {winner}"))
                && line.contains(&format!("{loser} also provides it and is shadowed"))
                && line.contains("the first directory on the search path wins"),
            "{line}"
        );
    };
    for (first, second, winner, loser) in [(da, db, &sa, &sb), (db, da, &sb, &sa)] {
        let (code, stdout, stderr, loaded) = case.run(
            &[
                "plugins",
                "info",
                "marker",
                "--plugin-dir",
                first,
                "--plugin-dir",
                second,
            ],
            &[],
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert!(loaded);
        assert!(stdout.contains(&format!("manifest: {winner}")), "{stdout}");
        warned(&stderr, winner, loser);

        let (code, stdout, stderr, loaded) = case.run(
            &[
                "plugins",
                "list",
                "--plugin-dir",
                first,
                "--plugin-dir",
                second,
            ],
            &[],
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!loaded, "listing loaded a library");
        let line = |path: &str| {
            stdout
                .lines()
                .find(|l| l.contains(&format!("\t{path}\t")))
                .unwrap_or_else(|| panic!("{path} not listed: {stdout}"))
                .to_string()
        };
        assert!(!line(winner).contains("shadowed"), "{stdout}");
        assert!(
            line(loser).contains(&format!("shadowed by {winner}")),
            "{stdout}"
        );
    }
    // --plugin-dir comes before VKSPLAT_PLUGIN_PATH.
    let (code, stdout, stderr, _) = case.run(
        &["plugins", "info", "marker", "--plugin-dir", db],
        &[("VKSPLAT_PLUGIN_PATH", da)],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("manifest: {sb}")), "{stdout}");
    warned(&stderr, &sb, &sa);
}

#[test]
fn manifest_library_must_stay_inside_its_directory() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugins-manifest-library-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.vksplat.json");
    let read = |library: &str| {
        plugin_support::manifest(&dir, "x", 1, library);
        vksplat_plugin_host::Manifest::read(&path)
    };
    for (library, why) in [
        ("/usr/lib/libx.so", "is an absolute path"),
        ("../libx.so", "contains a '..' component"),
        ("lib/../../libx.so", "contains a '..' component"),
        ("", "is empty"),
    ] {
        let err = read(library).expect_err(library);
        assert!(
            matches!(err, PluginError::Untrusted(_)),
            "{library}: {err:?}"
        );
        assert!(err.is_plugin_fault());
        let text = err.to_string();
        assert!(
            text.contains(&path.display().to_string())
                && text.contains("field \"library\"")
                && text.contains(why),
            "{library}: {text}"
        );
    }
    for (library, file) in [
        ("x", plugin_support::dylib("x")),
        ("lib/libx.so", "lib/libx.so".to_string()),
        ("./libx.so.1", "./libx.so.1".to_string()),
    ] {
        let m = read(library).unwrap();
        assert_eq!(m.library, dir.join(file), "{library}");
    }
}

/// Warnings the in-process policy below received.
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn collect_warning(text: &str) {
    WARNINGS.lock().unwrap().push(text.to_string());
}

#[cfg(unix)]
#[test]
fn load_with_refuses_insecure_plugins_unless_the_policy_allows_them() {
    let case = TrustCase::new("policy");
    chmod(&case.manifest(), 0o646);
    let search = SearchPath {
        dirs: vec![case.plugins.clone()],
    };
    let strict = vksplat_plugin_host::Policy {
        allow_insecure: false,
        warn: collect_warning,
    };
    let err = vksplat_plugin_host::load_with(&search, "marker", &strict).unwrap_err();
    assert!(matches!(err, PluginError::Untrusted(_)), "{err:?}");
    let shown = case
        .manifest()
        .canonicalize()
        .unwrap()
        .display()
        .to_string();
    assert!(
        err.to_string().contains(&format!("chmod o-w {shown}")),
        "{err}"
    );
    assert!(WARNINGS.lock().unwrap().iter().all(|w| !w.contains(&shown)));
    // `load`, what the C API calls, takes its policy from the environment.
    let by_env = vksplat_plugin_host::load(&search, "marker");
    if vksplat_plugin_host::trust::env_allows_insecure() {
        assert!(by_env.is_ok(), "{by_env:?}");
    } else {
        let err = by_env.unwrap_err();
        assert!(matches!(err, PluginError::Untrusted(_)), "{err:?}");
    }

    let lenient = vksplat_plugin_host::Policy {
        allow_insecure: true,
        ..strict
    };
    let plugin = vksplat_plugin_host::load_with(&search, "marker", &lenient).unwrap();
    assert_eq!(plugin.name(), "marker");
    let warnings = WARNINGS.lock().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("warning: plugin 'marker'") && w.contains(&shown)),
        "{warnings:?}"
    );
}
