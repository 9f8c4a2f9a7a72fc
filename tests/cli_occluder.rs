//! `vksplat render --occluder`: a host depth pass (.npy) occludes the splats per pixel
//! (`vksplat_core::host_depth`'s rule). A constant depth z gives the pixels of `--far z` bit for
//! bit (float32 and float64 files); a tilted depth in a projection's convention gives the pixels
//! of `Renderer::render_occluded` with the same array; a frame-numbered name reads each frame's
//! own file, and the occluder is part of the job's record (`--skip-existing`); bad files exit 3
//! naming the file, bad flags exit 2, before a device is opened.

use std::path::Path;

#[path = "plugin_support.rs"]
mod plugin_support;

use vksplat_core::{
    DepthConvention, DepthRange, Frame, GpuScene, Instance, Occluder, OccluderSource,
    RenderSettings,
};
use vksplat_io::scene::{read_scene_checked, InvalidSplats};
use vksplat_io::{read_exr, write_ply, Camera, Splats};
use vksplat_tests::cli::{assert_exit, camera_json, stderr, vksplat, TempDir};
use vksplat_tests::numpy::{npy_bytes, npy_bytes_typed};
use vksplat_tests::{camera, random_scene, Gpu, Rng};

const W: u32 = 64;
const H: u32 = 48;
const F: f64 = 60.0;

/// Splats in front of the camera at depths 1..9.
fn scene() -> Splats {
    let mut s = random_scene(&mut Rng::new(11), 1500, 1);
    for m in &mut s.means {
        let z = 1.0 + (m[2].abs() * 1.3) % 8.0;
        let k = z / m[2].abs().max(0.5);
        *m = [m[0] * k, m[1] * k, z];
    }
    s
}

/// A scratch directory with `scene.ply` and `cam.json` (`cameras` copies of one W×H camera at
/// the origin, frames 0..cameras).
fn setup(tag: &str, cameras: usize) -> TempDir {
    let dir = TempDir::new(tag);
    write_ply(&dir.join("scene.ply"), &scene()).unwrap();
    let one = camera_json("", W, H, F, [0.0; 3]);
    let list = vec![one; cameras].join(",");
    std::fs::write(dir.join("cam.json"), format!("[{list}]")).unwrap();
    dir
}

fn render(dir: &TempDir, out: &str, extra: &[&str]) -> std::process::Output {
    let (scene, cams, out) = (dir.arg("scene.ply"), dir.arg("cam.json"), dir.arg(out));
    let mut args = vec![
        "render",
        &scene,
        "--camera",
        &cams,
        "-o",
        &out,
        "-q",
        "--exr-color",
        "raw",
    ];
    args.extend_from_slice(extra);
    vksplat(&args)
}

/// R, G, B, A and Z of an EXR as bits.
fn pixels(path: &Path) -> Vec<Vec<u32>> {
    let img = read_exr(path).unwrap();
    ["R", "G", "B", "A", "Z"]
        .map(|c| {
            img.channel(c)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
        .into()
}

/// A frame's R, G, B, A and Z as bits (the EXR's channels with `--exr-color raw`).
fn frame_pixels(f: &Frame) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = (0..4)
        .map(|c| {
            f.rgba
                .iter()
                .skip(c)
                .step_by(4)
                .map(|v| v.to_bits())
                .collect()
        })
        .collect();
    out.push(f.depth.iter().map(|v| v.to_bits()).collect());
    out
}

/// The directory's scene.ply as the CLI reads it, uploaded, and the camera of cam.json.
fn scene_and_camera(gpu: &Gpu, dir: &TempDir) -> (GpuScene, Camera) {
    let splats = read_scene_checked(&dir.join("scene.ply"), InvalidSplats::Reject { hint: None })
        .unwrap()
        .file
        .splats;
    let scene = gpu.renderer.upload_scene(&splats).unwrap();
    let cam = camera(W, H, F as f32, F as f32, W as f32 / 2.0, H as f32 / 2.0);
    (scene, cam)
}

fn f64_npy(shape: &[usize], v: &[f64]) -> Vec<u8> {
    let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_bytes_typed("<f8", shape, &raw)
}

#[test]
fn constant_depth_is_the_far_plane_bit_for_bit() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let dir = setup("occ_const", 1);
    let pixels_n = (W * H) as usize;
    for z in [2.5f32, 4.75] {
        std::fs::write(
            dir.join("d32.npy"),
            npy_bytes(&[H as usize, W as usize], &vec![z; pixels_n]),
        )
        .unwrap();
        std::fs::write(
            dir.join("d64.npy"),
            f64_npy(&[H as usize, W as usize], &vec![f64::from(z); pixels_n]),
        )
        .unwrap();
        let zs = z.to_string();
        assert_exit(&render(&dir, "far.exr", &["--far", &zs]), 0);
        assert_exit(&render(&dir, "plain.exr", &[]), 0);
        let d32 = dir.arg("d32.npy");
        let d64 = dir.arg("d64.npy");
        assert_exit(&render(&dir, "o32.exr", &["--occluder", &d32]), 0);
        assert_exit(&render(&dir, "o64.exr", &["--occluder", &d64]), 0);
        let far = pixels(&dir.join("far.exr"));
        assert_eq!(pixels(&dir.join("o32.exr")), far, "z {z}: float32 depth");
        assert_eq!(pixels(&dir.join("o64.exr")), far, "z {z}: float64 depth");
        // The depth really occludes: some pixels differ from the unclipped image.
        let plain = pixels(&dir.join("plain.exr"));
        let changed = (0..pixels_n).filter(|&p| plain[3][p] != far[3][p]).count();
        assert!(changed > 50, "z {z}: only {changed} pixels changed");
        // The record names the occluder and its convention.
        let img = read_exr(&dir.join("o32.exr")).unwrap();
        let cmd = img.attribute("command_line").unwrap();
        assert!(
            cmd.contains(&format!("--occluder {d32} --occluder-convention linear")),
            "{cmd}"
        );
    }
}

/// A plugin scene (skinwave) on both evaluation paths, and motion-blurred: every sub-frame is
/// occluded by the frame's depth, so a constant depth is still `--far` bit for bit.
#[test]
fn plugin_scenes_and_motion_blur_take_the_occluder() {
    if !vksplat_tests::cli::gpu_available() {
        return;
    }
    let plugins = plugin_support::bundled_plugin_dir("occ-skinwave", &["skinwave"]);
    let dir = TempDir::new("occ_plugin");
    let plugins = plugins.to_str().unwrap();
    let run = |out: &str, extra: &[&str]| {
        let file = dir.arg(out);
        let mut args = vec![
            "render",
            "--plugin",
            "skinwave",
            "--plugin-dir",
            plugins,
            "--width",
            "64",
            "--height",
            "48",
            "--time",
            "0.3",
            "--exr-color",
            "raw",
            "-q",
            "-o",
            &file,
        ];
        args.extend_from_slice(extra);
        assert_exit(&vksplat(&args), 0);
        pixels(&dir.join(out))
    };
    // A depth halfway into the scene's visible depths.
    let plain = run("plain.exr", &[]);
    let mut depths: Vec<f32> = plain[4]
        .iter()
        .map(|b| f32::from_bits(*b))
        .filter(|z| *z > 0.0)
        .collect();
    assert!(
        depths.len() > 100,
        "skinwave covers {} pixels",
        depths.len()
    );
    depths.sort_by(f32::total_cmp);
    let z = depths[depths.len() / 2];
    std::fs::write(
        dir.join("z.npy"),
        npy_bytes(&[H as usize, W as usize], &vec![z; (W * H) as usize]),
    )
    .unwrap();
    let (zs, npy) = (z.to_string(), dir.arg("z.npy"));
    let blur = ["--shutter", "0.5", "--motion-samples", "2"];
    for (tag, extra) in [
        ("gpu", &["--plugin-eval", "gpu"][..]),
        ("cpu", &["--plugin-eval", "cpu"][..]),
        ("blur", &blur[..]),
    ] {
        let far = run(
            &format!("{tag}-far.exr"),
            &[extra, &["--far", &zs]].concat(),
        );
        let occ = run(
            &format!("{tag}-occ.exr"),
            &[extra, &["--occluder", &npy]].concat(),
        );
        assert_eq!(occ, far, "{tag}: occluder {z} vs --far");
        assert_ne!(far[3], plain[3], "{tag}: nothing occluded");
    }
}

#[test]
fn tilted_depth_in_gl_convention_equals_render_occluded() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = setup("occ_tilt", 1);
    // OpenGL NDC depth, reversed, of a plane from depth 1.5 (left, top) to 9.5 (right,
    // bottom) for a projection with near 0.5 and far 50.
    let c = DepthConvention {
        range: DepthRange::MinusOneToOne,
        near: 0.5,
        far: 50.0,
        reversed: true,
        orthographic: false,
    };
    let (n, f) = (0.5f64, 50.0f64);
    let raw: Vec<f32> = (0..H)
        .flat_map(|j| (0..W).map(move |i| (i, j)))
        .map(|(i, j)| {
            let z = 1.5
                + 6.0 * (f64::from(i) + 0.5) / f64::from(W)
                + 2.0 * (f64::from(j) + 0.5) / f64::from(H);
            let w = 1.0 - (f / (f - n)) * (1.0 - n / z);
            (2.0 * w - 1.0) as f32
        })
        .collect();
    std::fs::write(
        dir.join("tilt.npy"),
        npy_bytes(&[H as usize, W as usize], &raw),
    )
    .unwrap();
    let out = render(
        &dir,
        "tilt.exr",
        &[
            "--occluder",
            &dir.arg("tilt.npy"),
            "--occluder-convention",
            "gl",
            "--occluder-near",
            "0.5",
            "--occluder-far",
            "50",
            "--occluder-reversed",
        ],
    );
    assert_exit(&out, 0);
    // The same splats as the CLI reads them, the same camera and array, in this process.
    let (scene, cam) = scene_and_camera(&gpu, &dir);
    let settings = RenderSettings::default();
    let occ = Occluder {
        source: OccluderSource::Values(&raw),
        convention: c,
    };
    let (want, _) = gpu
        .renderer
        .render_occluded(&[Instance::of(&scene)], &cam, &settings, &occ)
        .unwrap();
    assert_eq!(pixels(&dir.join("tilt.exr")), frame_pixels(&want));
    let (plain, _) = gpu.renderer.render(&scene, &cam, &settings).unwrap();
    assert_ne!(
        frame_pixels(&plain),
        frame_pixels(&want),
        "nothing occluded"
    );
}

#[test]
fn frame_numbered_depth_reads_each_frames_file() {
    let Some(mut gpu) = Gpu::new() else { return };
    let dir = setup("occ_seq", 3);
    let zs = [2.5f32, 1000.0, 5.0];
    for (k, z) in zs.iter().enumerate() {
        std::fs::write(
            dir.join(&format!("depth.{k:04}.npy")),
            npy_bytes(&[H as usize, W as usize], &vec![*z; (W * H) as usize]),
        )
        .unwrap();
    }
    let pattern = dir.arg("depth.%04d.npy");
    let flags = ["--frames", "0-2", "--occluder", &pattern];
    assert_exit(&render(&dir, "out.####.exr", &flags), 0);
    let (scene, cam) = scene_and_camera(&gpu, &dir);
    for (k, z) in zs.iter().enumerate() {
        let s = RenderSettings {
            far: Some(*z),
            ..Default::default()
        };
        let (want, _) = gpu.renderer.render(&scene, &cam, &s).unwrap();
        let got = pixels(&dir.join(&format!("out.{k:04}.exr")));
        assert_eq!(got, frame_pixels(&want), "frame {k}: far {z}");
    }
    // The record holds the occluder: the same job keeps its files, another convention (or
    // file) renders them again.
    let before = std::fs::metadata(dir.join("out.0001.exr"))
        .unwrap()
        .modified()
        .unwrap();
    let mut again = flags.to_vec();
    again.push("--skip-existing");
    assert_exit(&render(&dir, "out.####.exr", &again), 0);
    let kept = std::fs::metadata(dir.join("out.0001.exr"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, kept, "the job's own file was kept");
    again.extend([
        "--occluder-convention",
        "zero-to-one",
        "--occluder-near",
        "0.5",
        "--occluder-far",
        "inf",
    ]);
    let out = render(&dir, "out.####.exr", &again);
    assert_exit(&out, 0);
    let img = read_exr(&dir.join("out.0001.exr")).unwrap();
    let cmd = img.attribute("command_line").unwrap();
    assert!(
        cmd.contains("--occluder-convention zero-to-one --occluder-near 0.5 --occluder-far inf"),
        "{cmd}"
    );
}

/// Bad files exit 3 naming the file and the problem; bad flags exit 2; nothing is written.
/// All before a device is opened, so these run without one.
#[test]
fn bad_occluders_are_refused_naming_the_file() {
    let dir = setup("occ_bad", 3);
    let shape = [H as usize, W as usize];
    let good = npy_bytes(&shape, &vec![3.0; (W * H) as usize]);
    std::fs::write(dir.join("good.npy"), &good).unwrap();
    std::fs::write(dir.join("truncated.npy"), &good[..good.len() - 7]).unwrap();
    std::fs::write(
        dir.join("narrow.npy"),
        npy_bytes(
            &[H as usize, W as usize - 1],
            &vec![3.0; (W * H - H) as usize],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("flat.npy"),
        npy_bytes(&[(W * H) as usize], &vec![3.0; (W * H) as usize]),
    )
    .unwrap();
    let ints: Vec<u8> = (0..W * H).flat_map(|_| 3i32.to_le_bytes()).collect();
    std::fs::write(dir.join("int.npy"), npy_bytes_typed("<i4", &shape, &ints)).unwrap();
    std::fs::write(dir.join("text.npy"), b"not numpy").unwrap();
    std::fs::create_dir_all(dir.join("dir.npy")).unwrap();
    std::fs::write(dir.join("seq.0000.npy"), &good).unwrap();
    std::fs::write(dir.join("seq.0002.npy"), &good).unwrap();

    let input_errors: [(&str, &[&str], &str); 8] = [
        ("missing.npy", &[], "cannot read"),
        ("truncated.npy", &[], "but the file has"),
        (
            "narrow.npy",
            &[],
            "shape (48, 63), but the camera of frame 0 is 64x48",
        ),
        ("flat.npy", &[], "shape (3072,)"),
        ("int.npy", &[], "dtype '<i4'"),
        ("text.npy", &[], "not an .npy array"),
        ("dir.npy", &[], "a directory"),
        // Frame 1's file of the sequence is missing.
        ("seq.####.npy", &["--frames", "0-2"], "seq.0001.npy"),
    ];
    for (file, extra, want) in input_errors {
        let path = dir.arg(file);
        let mut flags = vec!["--occluder", &path];
        flags.extend_from_slice(extra);
        let out = render(&dir, "bad.####.exr", &flags);
        assert_exit(&out, 3);
        let err = stderr(&out);
        let named = if file.contains('#') {
            dir.arg("seq.0001.npy")
        } else {
            path.clone()
        };
        assert!(err.contains(&format!("ERROR: {named}: ")), "{file}: {err}");
        assert!(err.contains(want), "{file}: wanted '{want}' in {err}");
    }

    let good = dir.arg("good.npy");
    let usage: [(&[&str], &str); 8] = [
        (&["--occluder-convention", "gl"], "none is given"),
        (&["--occluder-near", "1"], "none is given"),
        (
            &["--occluder", &good, "--occluder-convention", "depth"],
            "invalid value 'depth'",
        ),
        (
            &["--occluder", &good, "--occluder-convention", "zero-to-one"],
            "needs the planes",
        ),
        (
            &[
                "--occluder",
                &good,
                "--occluder-far",
                "10",
                "--occluder-near",
                "1",
            ],
            "--occluder-convention linear",
        ),
        (
            &[
                "--occluder",
                &good,
                "--occluder-convention",
                "gl",
                "--occluder-near",
                "0",
                "--occluder-far",
                "10",
            ],
            "near plane 0",
        ),
        (
            &[
                "--occluder",
                &good,
                "--occluder-convention",
                "zero-to-one",
                "--occluder-orthographic",
                "--occluder-near",
                "1",
                "--occluder-far",
                "inf",
            ],
            "finite far plane",
        ),
        (
            &[
                "--occluder",
                &dir.arg("seq.####.npy"),
                "--first-frame",
                "-1",
                "--frames",
                "-1",
            ],
            "frames 0 and up",
        ),
    ];
    for (flags, want) in usage {
        let out = render(&dir, "bad.####.exr", flags);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(want), "{flags:?}: wanted '{want}' in {err}");
    }
    let written: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bad."))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}
