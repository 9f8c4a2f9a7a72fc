//! Hostile and degenerate inputs against the `vksplat` binary (issue 9, items 4, 5, 7, 8, 9):
//!
//! - out of host memory is a clean exit 7 naming the bytes, never an abort: a well-formed
//!   SPZ that honestly needs gigabytes, read under a lowered address-space limit
//!   (`ulimit -v`, RLIMIT_AS), and a 10000×10000 render (its limit is relative to what a
//!   small render peaks at, since drivers reserve very different amounts);
//! - a frame beyond the device's real limits (and a sort beyond what the device sorts) is
//!   refused with exit 1 before anything is allocated for it;
//! - an SPZ v4 "zstd bomb" (20 M SH-3 splats declared in 39,848 bytes of run-length blocks)
//!   is refused with exit 3 while the process runs in a few hundred MB;
//! - FIFOs, devices and directories given as scenes or cameras never block: exit 3;
//! - `info` rejects exactly what `render` and `convert` reject (exit 3, description first);
//! - finite but degenerate inputs that render nothing get a `warning:` naming the file.
//!
//! Tests that render need a Vulkan device: [`vksplat_tests::gpu`] decides (with
//! `VKSPLAT_REQUIRE_GPU=1`, as in CI, a missing device fails them).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use vksplat_io::{read_exr, write_ply, Splats};
use vksplat_tests::cli::{self, assert_exit, bin, stderr, stdout, TempDir};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Runs the binary with the validation layers on, under an address-space limit of `limit_kb`
/// (none when `None`), killing it (and failing) if it runs longer than `deadline`.
fn run_limited(limit_kb: Option<u64>, args: &[&str], deadline: Duration) -> Output {
    let mut cmd = match limit_kb {
        Some(kb) => {
            let mut c = Command::new("bash");
            c.arg("-c")
                .arg(format!("ulimit -v {kb} && exec \"$0\" \"$@\""))
                .arg(bin())
                .args(args);
            c
        }
        None => {
            let mut c = Command::new(bin());
            c.args(args);
            c
        }
    };
    let mut child = cmd
        .env("VKSPLAT_VALIDATION", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vksplat");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "vksplat {args:?} still running after {deadline:?} (blocked?)\nstderr:\n{}",
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str]) -> Output {
    run_limited(None, args, Duration::from_secs(120))
}

/// The peak address space (VmPeak, KiB) of the binary running `args` to completion: what a
/// GPU driver reserves differs widely (lavapipe ~1 GB, others far more), so address-space
/// limits for rendering commands are set relative to it.
fn vm_peak_kb(args: &[&str]) -> u64 {
    let mut child = Command::new(bin())
        .args(args)
        .env("VKSPLAT_VALIDATION", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run vksplat");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let kb = text
                .lines()
                .find_map(|l| l.strip_prefix("VmPeak:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(kb.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(peak > 0, "no VmPeak seen for vksplat {args:?}");
    peak
}

/// An address-space limit for a render of `scene`: what a 64x48 render of it peaks at, plus
/// `extra_kb`.
fn render_limit_kb(scene: &Path, dir: &TempDir, extra_kb: u64) -> u64 {
    let small = dir.arg("small.png");
    let s = scene.to_str().unwrap();
    vm_peak_kb(&["render", s, "--width", "64", "--height", "48", "-o", &small]) + extra_kb
}

/// Whether rendering tests can run (see the module docs).
fn gpu() -> bool {
    vksplat_tests::gpu().is_some()
}

/// A zstd frame of `n` copies of `byte` made of run-length blocks (4 bytes per 128 KiB):
/// magic, a frame header with a 1 MiB window and no content size, then RLE blocks.
fn zstd_rle(n: usize, byte: u8) -> Vec<u8> {
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3];
    let mut left = n;
    loop {
        let m = left.min(128 << 10);
        left -= m;
        let last = u32::from(left == 0);
        let header = (m as u32) << 3 | 1 << 1 | last;
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.push(byte);
        if left == 0 {
            return out;
        }
    }
}

/// An SPZ v4 file of `count` splats of SH degree 3 whose streams are all run-length zeros.
fn spz_v4_rle(count: u32) -> Vec<u8> {
    let per_splat = [9usize, 1, 3, 3, 4, 45];
    let streams: Vec<Vec<u8>> = per_splat
        .iter()
        .map(|&s| zstd_rle(s * count as usize, 0))
        .collect();
    let mut b = b"NGSP".to_vec();
    b.extend_from_slice(&4u32.to_le_bytes());
    b.extend_from_slice(&count.to_le_bytes());
    b.extend_from_slice(&[3, 12, 0, 6]);
    b.extend_from_slice(&32u32.to_le_bytes());
    b.extend_from_slice(&[0; 12]);
    for (z, s) in streams.iter().zip(per_splat) {
        b.extend_from_slice(&(z.len() as u64).to_le_bytes());
        b.extend_from_slice(&((s * count as usize) as u64).to_le_bytes());
    }
    for z in &streams {
        b.extend_from_slice(z);
    }
    b
}

/// An SPZ v3 (gzip) file of `count` SH-3 splats whose payload is all zeros: honest (deflate
/// really expands ~1000:1 on zeros) and decodes to 236 bytes per splat.
fn spz_v3_zeros(count: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(b"NGSP").unwrap();
    e.write_all(&3u32.to_le_bytes()).unwrap();
    e.write_all(&count.to_le_bytes()).unwrap();
    e.write_all(&[3, 12, 0, 0]).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = 65 * count as usize;
    while left > 0 {
        let m = left.min(zeros.len());
        e.write_all(&zeros[..m]).unwrap();
        left -= m;
    }
    e.finish().unwrap()
}

/// `n` unit splats along x in front of a camera at the origin.
fn line_scene(n: usize, log_scale: f32) -> Splats {
    Splats {
        means: (0..n).map(|i| [i as f32 * 0.1 - 0.2, 0.0, 5.0]).collect(),
        rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
        log_scales: vec![[log_scale; 3]; n],
        opacity_logits: vec![2.0; n],
        sh_degree: 0,
        sh: vec![1.0; n * 3],
    }
}

/// A camera JSON at the origin looking down +z.
fn camera_json(fx: f64) -> String {
    cli::camera_json("", 64, 48, fx, [0.0; 3])
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(ok.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------------------------
// Item 5: decompression bombs

#[test]
fn spz_v4_zstd_bomb_is_refused_in_little_memory() {
    let dir = TempDir::new("bomb");
    let bomb = spz_v4_rle(20_000_000);
    assert_eq!(bomb.len(), 39_848, "the issue's bomb size");
    let path = dir.join("bomb.spz");
    std::fs::write(&path, &bomb).unwrap();
    let p = path.to_str().unwrap();
    // 20 M SH-3 splats would need 4.7 GB decoded (and today 5.9 GB): under 400 MB of address
    // space the file must be refused from its sizes alone.
    let out_ply = dir.arg("out.ply");
    for args in [vec!["info", p], vec!["convert", p, &out_ply]] {
        let out = run_limited(Some(400_000), &args, Duration::from_secs(60));
        assert_exit(&out, 3);
        let err = stderr(&out);
        assert!(
            err.contains("bomb.spz") && err.contains("decompression bomb"),
            "{args:?}: {err}"
        );
    }
    // The same construction at an honest size is a valid scene (identical splats).
    std::fs::write(&path, spz_v4_rle(1000)).unwrap();
    let out = run_limited(Some(400_000), &["info", p], Duration::from_secs(60));
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("count: 1000"), "{}", stdout(&out));
}

// ---------------------------------------------------------------------------------------------
// Item 4: out of host memory

#[test]
fn a_scene_too_large_for_this_process_is_exit_7() {
    let dir = TempDir::new("oom");
    // 5 M SH-3 splats: 325 MB of zeros in a ~0.3 MB gzip file, 1.18 GB decoded.
    let path = dir.join("zeros.spz");
    std::fs::write(&path, spz_v3_zeros(5_000_000)).unwrap();
    let p = path.to_str().unwrap();
    let spz = dir.arg("out.spz");
    for args in [vec!["info", p], vec!["convert", p, &spz]] {
        let out = run_limited(Some(700_000), &args, Duration::from_secs(60));
        assert_exit(&out, 7);
        let err = stderr(&out);
        assert!(
            err.contains("ERROR: ")
                && err.contains("zeros.spz: needs 1180000000 bytes of host memory"),
            "{args:?}: {err}"
        );
    }
    assert!(!Path::new(&spz).exists());
}

#[test]
fn a_frame_too_large_for_this_process_is_exit_7() {
    if !gpu() {
        return;
    }
    let dir = TempDir::new("oom-frame");
    let scene = dir.join("scene.ply");
    write_ply(&scene, &line_scene(5, -2.0)).unwrap();
    // A 10000x10000 frame needs 2 GB of readback and 2 GB for the host copy of the image
    // (and, on a CPU device, its 2 GB of device buffers): not with 2.5 GB more address space
    // than a small render (3.5 GB in all on lavapipe).
    let limit = render_limit_kb(&scene, &dir, 2_500_000);
    let out = run_limited(
        Some(limit),
        &[
            "render",
            scene.to_str().unwrap(),
            "--width",
            "10000",
            "--height",
            "10000",
            "-o",
            &dir.arg("big.png"),
        ],
        Duration::from_secs(120),
    );
    assert_exit(&out, 7);
    let err = stderr(&out);
    assert!(
        err.contains("scene.ply: needs ") && err.contains("bytes of host memory for a 10000x10000"),
        "{err}"
    );
    assert!(!dir.join("big.png").exists());
}

#[test]
fn a_frame_beyond_the_device_limits_is_refused_before_allocating() {
    let Some(ctx) = vksplat_tests::gpu() else {
        return;
    };
    let info = ctx.info().clone();
    drop(ctx);
    let dir = TempDir::new("too-large");
    let scene = dir.join("scene.ply");
    write_ply(&scene, &line_scene(5, -2.0)).unwrap();
    // The smallest square frame whose readback (20 bytes a pixel) exceeds the device's largest
    // allocation while staying under the 2^28-pixel camera limit: 11584x11584 on lavapipe.
    let side = ((info.max_memory_allocation_size as f64 / 20.0)
        .sqrt()
        .ceil() as u64
        + 1)
    .max(1);
    if side * side > 1 << 28 {
        eprintln!(
            "{} allocates {} bytes at once: every frame under 2^28 pixels fits; nothing to test",
            info.name, info.max_memory_allocation_size
        );
        return;
    }
    let side = side.to_string();
    // With only 2.5 GB more address space than a small render: nothing may be allocated for
    // the frame before it is refused.
    let limit = render_limit_kb(&scene, &dir, 2_500_000);
    let start = Instant::now();
    let out = run_limited(
        Some(limit),
        &[
            "render",
            scene.to_str().unwrap(),
            "--width",
            &side,
            "--height",
            &side,
            "-o",
            &dir.arg("big.exr"),
        ],
        Duration::from_secs(120),
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("too large for this device") && err.contains("readback"),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn bench_sort_keys_has_an_upper_bound() {
    let out = run(&["bench", "--sort-keys", "0"]);
    assert_exit(&out, 2);
    if !gpu() {
        return;
    }
    // 4e9 pairs would be 32 GB of keys and values on the host: refused from the device's
    // bound before anything is allocated (with 2 GB more address space than a tiny sort
    // needs, to prove it).
    let limit = vm_peak_kb(&[
        "bench",
        "--sort-keys",
        "1024",
        "--frames",
        "1",
        "--warmup",
        "0",
    ]) + 2_000_000;
    let out = run_limited(
        Some(limit),
        &["bench", "--sort-keys", "4000000000"],
        Duration::from_secs(60),
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("--sort-keys 4000000000") && err.contains("sorts at most"),
        "{err}"
    );
    let help = stdout(&run(&["bench", "--help"]));
    assert!(help.contains("max storage buffer range / 4"), "{help}");
}

// ---------------------------------------------------------------------------------------------
// FIFOs, devices, directories

#[test]
fn special_files_as_inputs_never_block() {
    let dir = TempDir::new("fifo");
    let fifo = dir.join("scene.ply");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let short = Duration::from_secs(20);
    let out_spz = dir.arg("x.spz");
    for (args, what) in [
        (vec!["info", f], "a FIFO"),
        (vec!["convert", f, &out_spz], "a FIFO"),
        (vec!["info", "/dev/zero"], "a character device"),
        (vec!["info", dir.0.to_str().unwrap()], "a directory"),
    ] {
        let out = run_limited(None, &args, short);
        assert_exit(&out, 3);
        let err = stderr(&out);
        let named = args[1];
        assert!(
            err.contains(&format!("{named}: is {what}")),
            "{args:?}: {err}"
        );
    }
    // A FIFO as the camera of a render.
    if gpu() {
        let scene = dir.join("ok.ply");
        write_ply(&scene, &line_scene(5, -2.0)).unwrap();
        let cam = dir.join("cam.json");
        mkfifo(&cam);
        let out = run_limited(
            None,
            &[
                "render",
                scene.to_str().unwrap(),
                "--camera",
                cam.to_str().unwrap(),
                "-o",
                &dir.arg("x.png"),
            ],
            short,
        );
        assert_exit(&out, 3);
        assert!(
            stderr(&out).contains("cam.json: is a FIFO"),
            "{}",
            stderr(&out)
        );
        // And as the scene.
        let good_cam = dir.join("good.json");
        std::fs::write(&good_cam, camera_json(50.0)).unwrap();
        let out = run_limited(
            None,
            &[
                "render",
                f,
                "--camera",
                good_cam.to_str().unwrap(),
                "-o",
                &dir.arg("x.png"),
            ],
            short,
        );
        assert_exit(&out, 3);
        assert!(
            stderr(&out).contains("scene.ply: is a FIFO"),
            "{}",
            stderr(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Item 8: info agrees with render and convert

/// Makes a scene invalid in one way.
type Spoil = fn(&mut Splats);

#[test]
fn info_rejects_what_render_rejects() {
    let dir = TempDir::new("agree");
    let cam = dir.join("cam.json");
    std::fs::write(&cam, camera_json(50.0)).unwrap();
    let cases: [(&str, Spoil, &str); 4] = [
        (
            "nan.ply",
            |s| s.means[1][2] = f32::NAN,
            "splat 1: mean[2] is NaN",
        ),
        (
            "zero_quaternion.ply",
            |s| s.rotations[2] = [0.0; 4],
            "splat 2: rotation is a zero-length quaternion",
        ),
        (
            "inf_opacity.ply",
            |s| s.opacity_logits[0] = f32::INFINITY,
            "splat 0: opacity_logit[0] is inf",
        ),
        // exp(89) overflows f32: render could not use it, so it is invalid everywhere.
        (
            "log_scale_89.ply",
            |s| s.log_scales[3][0] = 89.0,
            "splat 3: log_scale[0] is 89",
        ),
    ];
    let gpu = gpu();
    for (name, spoil, problem) in cases {
        let mut s = line_scene(5, -2.0);
        spoil(&mut s);
        let path = dir.join(name);
        write_ply(&path, &s).unwrap();
        let p = path.to_str().unwrap();
        let out = run(&["info", p]);
        assert_exit(&out, 3);
        let (text, err) = (stdout(&out), stderr(&out));
        assert!(
            text.contains("count: 5") && text.contains(&format!("status: INVALID: {problem}")),
            "{name}: {text}"
        );
        let error_line = format!("ERROR: {p}: invalid scene: {problem}");
        assert!(err.contains(&error_line), "{name}: {err}");
        let json = run(&["info", p, "--json"]);
        assert_exit(&json, 3);
        let v: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON on stdout");
        assert!(v["invalid"].as_str().unwrap().starts_with(problem), "{v}");

        let out = run(&["convert", p, &dir.arg("out.spz")]);
        assert_exit(&out, 3);
        assert!(
            stderr(&out).contains(&error_line),
            "{name}: {}",
            stderr(&out)
        );
        if gpu {
            let out = run(&[
                "render",
                p,
                "--camera",
                cam.to_str().unwrap(),
                "-o",
                &dir.arg("o.png"),
            ]);
            assert_exit(&out, 3);
            assert!(
                stderr(&out).contains(&error_line),
                "{name}: {}",
                stderr(&out)
            );
        }
    }
    // Statistics report the overflow instead of skipping it.
    let out = run(&["info", dir.join("log_scale_89.ply").to_str().unwrap()]);
    assert!(
        stdout(&out).contains("scale min/median/max: 1.3534e-1 / 1.3534e-1 / inf"),
        "{}",
        stdout(&out)
    );
    // A valid scene is still exit 0.
    let ok = dir.join("ok.ply");
    write_ply(&ok, &line_scene(5, -2.0)).unwrap();
    let out = run(&["info", ok.to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("status: valid"));
}

// ---------------------------------------------------------------------------------------------
// Degenerate but finite inputs

#[test]
fn degenerate_inputs_that_render_nothing_warn() {
    if !gpu() {
        return;
    }
    let dir = TempDir::new("degenerate");
    let huge = dir.join("huge.ply");
    write_ply(&huge, &line_scene(5, 40.0)).unwrap();
    let ok = dir.join("ok.ply");
    write_ply(&ok, &line_scene(5, -2.0)).unwrap();
    let cam = dir.join("cam.json");
    std::fs::write(&cam, camera_json(1000.0)).unwrap();
    let absurd = dir.join("absurd.json");
    std::fs::write(&absurd, camera_json(3e38)).unwrap();
    let cases = [
        (&huge, &cam, "huge.ply", "overflows single precision"),
        (&ok, &absurd, "absurd.json", "focal length"),
    ];
    for (scene, camera, names, why) in cases {
        let exr = dir.arg("out.exr");
        let out = run(&[
            "render",
            scene.to_str().unwrap(),
            "--camera",
            camera.to_str().unwrap(),
            "-o",
            &exr,
        ]);
        assert_exit(&out, 0);
        let err = stderr(&out);
        let warning = err
            .lines()
            .find(|l| l.starts_with("warning: ") && l.contains("no splat is visible"))
            .unwrap_or_else(|| panic!("no warning:\n{err}"));
        assert!(
            warning.contains(scene.to_str().unwrap()) && warning.contains(names),
            "{warning}"
        );
        assert!(warning.contains(why), "{warning}");
        let img = read_exr(Path::new(&exr)).expect("exr decodes");
        let alpha = img.channel("A").expect("alpha");
        assert!(alpha.iter().all(|&a| a == 0.0), "not background only");
    }
    // A scene that shows is not warned about.
    let out = run(&[
        "render",
        ok.to_str().unwrap(),
        "--camera",
        cam.to_str().unwrap(),
        "-o",
        &dir.arg("fine.png"),
    ]);
    assert_exit(&out, 0);
    assert!(
        !stderr(&out).contains("no splat is visible"),
        "{}",
        stderr(&out)
    );
}
