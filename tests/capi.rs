//! The C API from C: tests/c/host.c, built with the system C compiler against
//! `include/vksplat.h` and linked against `libvksplat.so` (and, separately, `libvksplat.a`),
//! renders a scene from a file, from copied and from borrowed caller arrays, and from the C
//! example plugin, and checks error codes; this test compares its pixels with the Rust API's.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use plugin_support::{build_workspace, plugin_dir, profile_dir, root};
use vksplat_core::RenderSettings;
use vksplat_io::Splats;
use vksplat_plugin_host::{EvalPath, Instance, SearchPath, VariantScene};
use vksplat_tests::{camera, compare, random_scene, Gpu, Rng};

const W: u32 = 96;
const H: u32 = 72;

fn work_dir(tag: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("capi-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scene() -> Splats {
    let mut rng = Rng::new(21);
    let mut s = random_scene(&mut rng, 1500, 1);
    // All in front of the camera, so the borrowed-scene edit shows.
    for m in &mut s.means {
        m[2] = m[2].abs() + 0.5;
    }
    s
}

fn write_inputs(dir: &Path, s: &Splats) -> (PathBuf, PathBuf) {
    let ply = dir.join("scene.ply");
    vksplat_io::write_ply(&ply, s).unwrap();
    let mut bin: Vec<u8> = Vec::new();
    bin.extend((s.len() as u32).to_le_bytes());
    bin.extend(s.sh_degree.to_le_bytes());
    let mut put = |v: &[f32]| v.iter().for_each(|x| bin.extend(x.to_le_bytes()));
    put(bytemuck::cast_slice(&s.means));
    put(bytemuck::cast_slice(&s.rotations));
    put(bytemuck::cast_slice(&s.log_scales));
    put(&s.opacity_logits);
    put(&s.sh);
    let path = dir.join("scene.bin");
    std::fs::write(&path, bin).unwrap();
    (ply, path)
}

fn read_f32(path: &Path) -> Vec<f32> {
    let b = std::fs::read(path).unwrap();
    bytemuck::cast_slice::<u8, f32>(&b).to_vec()
}

fn build_host(dir: &Path, static_link: bool) -> PathBuf {
    let exe = dir.join(if static_link { "host_static" } else { "host" });
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let mut cmd = Command::new(cc);
    cmd.args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join("tests/c/host.c"))
        .arg("-o")
        .arg(&exe);
    if static_link {
        cmd.arg(profile_dir().join("libvksplat.a")).args([
            "-lstdc++",
            "-lzstd",
            "-lm",
            "-ldl",
            "-lpthread",
        ]);
    } else {
        cmd.arg("-L")
            .arg(profile_dir())
            .arg("-lvksplat")
            .arg(format!("-Wl,-rpath,{}", profile_dir().display()));
    }
    let out = cmd.output().expect("run cc");
    assert!(
        out.status.success(),
        "building tests/c/host.c failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn run_host(exe: &Path, dir: &Path, ply: &Path, bin: &Path) {
    let out = Command::new(exe)
        .arg(plugin_dir())
        .arg(ply)
        .arg(bin)
        .arg(dir)
        .env("VKSPLAT_VALIDATION", "1")
        .env_remove("VKSPLAT_PLUGIN_PATH")
        .output()
        .expect("run the C host");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "C host failed:\n{stderr}");
    assert!(!stderr.contains("validation error"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
}

#[test]
fn c_host_renders_what_the_rust_api_renders() {
    let Some(mut gpu) = Gpu::new() else { return };
    build_workspace();
    let dir = work_dir("shared");
    let splats = scene();
    let (ply, bin) = write_inputs(&dir, &splats);
    let exe = build_host(&dir, false);
    run_host(&exe, &dir, &ply, &bin);

    let cam = camera(W, H, 90.0, 90.0, 48.0, 36.0);
    let settings = RenderSettings {
        background: [0.1, 0.2, 0.3],
        ..Default::default()
    };
    let s = gpu.renderer.upload_scene(&splats).unwrap();
    let (want, _) = gpu.renderer.render(&s, &cam, &settings).unwrap();
    let got = read_f32(&dir.join("ply.f32"));
    let (max, bad) = compare(&got, &want.rgba, 1e-6, 0.0);
    assert!(bad == 0.0, "C (PLY) vs Rust: max {max}");
    let (max, bad) = compare(&read_f32(&dir.join("ply.depth")), &want.depth, 1e-5, 1e-6);
    assert!(bad == 0.0, "depth: max {max}");
    assert!(want.rgba.chunks_exact(4).filter(|p| p[3] > 0.5).count() > 200);

    let u8s = std::fs::read(dir.join("arrays.u8")).unwrap();
    let expect: Vec<u8> = want
        .rgba
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let off = u8s
        .iter()
        .zip(&expect)
        .filter(|(a, b)| a.abs_diff(**b) > 1)
        .count();
    assert_eq!(off, 0, "C (copied arrays, RGBA8) vs Rust");

    let mut moved = splats.clone();
    for m in &mut moved.means {
        m[0] += 0.25;
    }
    let s = gpu.renderer.upload_scene(&moved).unwrap();
    let (want_moved, _) = gpu.renderer.render(&s, &cam, &settings).unwrap();
    let (max, bad) = compare(
        &read_f32(&dir.join("borrowed.f32")),
        &want_moved.rgba,
        1e-6,
        0.0,
    );
    assert!(bad == 0.0, "C (borrowed, refreshed) vs Rust: max {max}");

    let search = SearchPath {
        dirs: vec![plugin_dir().to_path_buf()],
    };
    let plugin = vksplat_plugin_host::load(&search, "triangle").unwrap();
    let params = vec![
        ("count".to_string(), "900".to_string()),
        ("spin".to_string(), "1.5".to_string()),
    ];
    let inst = Instance::open(plugin, None, &params).unwrap();
    let mut vs = VariantScene::new(&gpu.renderer, inst, EvalPath::Gpu).unwrap();
    let (want_plugin, _) = vs.render(&mut gpu.renderer, &cam, &settings, 0.7).unwrap();
    let (max, bad) = compare(
        &read_f32(&dir.join("plugin.f32")),
        &want_plugin.rgba,
        1e-5,
        1e-4,
    );
    assert!(bad == 0.0, "C (plugin) vs Rust: max {max}");
    assert!(
        want_plugin
            .rgba
            .chunks_exact(4)
            .filter(|p| p[3] > 0.5)
            .count()
            > 100
    );
}

#[test]
fn c_host_links_the_static_library() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    build_workspace();
    let dir = work_dir("static");
    let (ply, bin) = write_inputs(&dir, &scene());
    let exe = build_host(&dir, true);
    run_host(&exe, &dir, &ply, &bin);
}
