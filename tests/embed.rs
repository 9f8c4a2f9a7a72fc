//! Embedding in a host's Vulkan device: tests/embed_host/host.cpp, built with the system C++
//! compiler against `include/vksplat.h`, `libvksplat.so` and the system `libvulkan`, creates
//! its own instance (validation and synchronization validation on) and device from
//! `vksplat_vulkan_requirements`, hands it over, renders into its own images and buffers,
//! reads them back itself and compares them bit for bit with the standalone path. One
//! scenario per process (see the program's header comment). The occlusion scenario compiles
//! its quad shaders with glslc and draws into its own depth image (tests/embed_host/occlusion.h).

#[path = "plugin_support.rs"]
mod plugin_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use plugin_support::{build_workspace, profile_dir, root};
use vksplat_tests::{random_scene, Gpu, Rng};

fn work_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("embed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

/// The host program and the scene it renders (built once per test process).
fn host() -> &'static (PathBuf, PathBuf) {
    static HOST: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    HOST.get_or_init(|| {
        let dir = work_dir();
        let mut s = random_scene(&mut Rng::new(14), 2000, 2);
        // In front of the host's cameras (rotations about y through the origin).
        for m in &mut s.means {
            m[2] = m[2].abs() + 1.5;
        }
        let ply = dir.join("scene.ply");
        vksplat_io::write_ply(&ply, &s).unwrap();
        build_workspace();
        let exe = dir.join("embed_host");
        let cxx = std::env::var_os("CXX").unwrap_or_else(|| "c++".into());
        let out = Command::new(cxx)
            // `T x{sType}` leaves the other members zero, the usual Vulkan idiom.
            .args(["-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror"])
            .arg("-Wno-missing-field-initializers")
            .arg("-I")
            .arg(root().join("include"))
            .arg(root().join("tests/embed_host/host.cpp"))
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(profile_dir())
            .arg("-lvksplat")
            .arg(format!("-Wl,-rpath,{}", profile_dir().display()))
            .arg("-lvulkan")
            .output()
            .expect("run the C++ compiler");
        assert!(
            out.status.success(),
            "building tests/embed_host/host.cpp failed (needs libvulkan-dev):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (exe, ply)
    })
}

fn run(scenario: &str) -> String {
    run_env(scenario, &[])
}

/// The SPIR-V of the occlusion scenario's quad shaders (tests/embed_host/quad.vert, .frag),
/// compiled with glslc as a host's build would.
fn quad_shaders() -> [(&'static str, PathBuf); 2] {
    ["vert", "frag"].map(|stage| {
        let src = root().join(format!("tests/embed_host/quad.{stage}"));
        let spv = work_dir().join(format!("quad.{stage}.spv"));
        let out = Command::new("glslc")
            .arg(&src)
            .arg("-o")
            .arg(&spv)
            .output()
            .expect("run glslc (tools/setup.sh installs it)");
        assert!(
            out.status.success(),
            "glslc {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let var = if stage == "vert" {
            "VKSPLAT_QUAD_VERT"
        } else {
            "VKSPLAT_QUAD_FRAG"
        };
        (var, spv)
    })
}

fn run_env(scenario: &str, env: &[(&str, PathBuf)]) -> String {
    // A GPU test: fails under VKSPLAT_REQUIRE_GPU=1 without a device, skips otherwise.
    let Some(gpu) = Gpu::new() else {
        return String::new();
    };
    drop(gpu);
    let (exe, ply) = host();
    let out = Command::new(exe)
        .arg(scenario)
        .arg(ply)
        .env("VKSPLAT_VALIDATION", "1")
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .output()
        .expect("run the C++ host");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "C++ host '{scenario}' failed:\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("validation error"), "{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    stdout
}

#[test]
fn host_device_renders_into_its_own_image_like_the_standalone_path() {
    run("render");
}

#[test]
fn frames_in_flight_without_wait_idle() {
    run("inflight");
}

#[test]
fn context_destroyed_before_the_hosts_device() {
    run("destroy");
}

#[test]
fn frames_recorded_into_the_hosts_command_buffers() {
    let out = run("record");
    // The CPU time of each recording call (cargo test -- --nocapture shows it).
    for line in out
        .lines()
        .filter(|l| l.starts_with("vksplat_render_record"))
    {
        println!("{line}");
    }
}

/// The compositing scenario: the host rasterises a quad into its own depth image with
/// a graphics pipeline, vksplat renders occluded by it into the host's colour image; equal to
/// the standalone path where the quad does not cover, to the standalone path given the same
/// depth in host memory everywhere, to the far clip plane where a parallel quad covers.
#[test]
fn host_depth_image_from_a_rasterised_quad_occludes_the_splats() {
    let out = run_env("occlusion", &quad_shaders());
    if !out.is_empty() {
        assert!(out.contains("tilted:"), "{out}");
    }
}
