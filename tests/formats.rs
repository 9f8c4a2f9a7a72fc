//! Scene formats on real and known data: the splat-transform fixtures decode to their known
//! values, the biker scene from SPZ v4 and from compressed PLY agree, PLY → SPZ → PLY stays
//! within SPZ's quantization steps, SPZ and PLY render the same with the same camera, and
//! crafted bad files fail with clear input errors.

use std::path::{Path, PathBuf};

use vksplat_core::reference;
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_io::scene::{PlyEncoding, SpzContainer};
use vksplat_io::{
    parse_scene, read_scene, write_scene, write_scene_with, Axes, Format, IoError, OutputFormat,
    Splats, WriteOptions,
};
use vksplat_tests::{camera, random_scene, Rng};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/formats")
        .join(name)
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vksplat-formats-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sigmoid(x: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(x)).exp())
}

fn qdot(a: [f32; 4], b: [f32; 4]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(y))
        .sum::<f64>()
        .abs()
}

const SH_C0: f64 = 0.282_094_791_773_878_14;

#[test]
fn fixtures_decode_to_their_known_values() {
    // splat-transform's create-fixtures: a 2×2 grid at x, z ∈ {-1, 0}, y = 0, scale 0.1,
    // opacity byte 230, colour bytes (85|170, 85|170, 128).
    let grid = [[-1.0, -1.0], [0.0, -1.0], [-1.0, 0.0], [0.0, 0.0]];
    let alpha = (230.0f64 / 255.0 / (1.0 - 230.0 / 255.0)).ln() as f32;

    let s = read_scene(&data("splat-transform_minimal.splat")).unwrap();
    assert_eq!(s.format, Format::Splat);
    assert_eq!((s.splats.len(), s.splats.sh_degree), (4, 0));
    assert_eq!(s.frame, Axes::Rdf);
    assert_eq!(s.bytes_per_splat, 32.0);
    for (i, [x, z]) in grid.iter().enumerate() {
        assert_eq!(s.splats.means[i], [*x, 0.0, *z]);
        assert_eq!(s.splats.log_scales[i], [0.1f32.ln(); 3]);
        assert_eq!(s.splats.opacity_logits[i], alpha);
        // Rotation bytes (128, 128, 128, 255) in antimatter15's (w, x, y, z) order.
        assert!(qdot(s.splats.rotations[i], [0.0, 0.0, 0.0, 1.0]) > 0.9999);
        let r = if i % 2 == 0 { 85.0 } else { 170.0 };
        let dc = ((r / 255.0 - 0.5) / SH_C0) as f32;
        assert!((s.splats.sh[i * 3] - dc).abs() < 1e-6);
    }

    for (name, version, container, x_z_sign) in [
        (
            "splat-transform_minimal-raw.spz",
            2,
            SpzContainer::Raw,
            [1.0, -1.0],
        ),
        (
            "splat-transform_minimal-v2.spz",
            2,
            SpzContainer::Gzip,
            [1.0, -1.0],
        ),
        (
            "splat-transform_minimal-v3.spz",
            3,
            SpzContainer::Gzip,
            [1.0, 1.0],
        ),
        (
            "splat-transform_minimal-v4.spz",
            4,
            SpzContainer::Zstd,
            [1.0, 1.0],
        ),
    ] {
        let s = read_scene(&data(name)).unwrap();
        assert_eq!(s.format, Format::Spz { version, container }, "{name}");
        assert_eq!(s.frame, Axes::Rub);
        assert!(!s.antialiased);
        assert_eq!((s.splats.len(), s.splats.sh_degree), (4, 0), "{name}");
        for (i, [x, z]) in grid.iter().enumerate() {
            // Stored (x, 0, ±z) in RUB; read as RDF, y and z negated. The v2 fixtures were
            // written by a tool that stores z un-negated.
            let want = [x * x_z_sign[0], 0.0, z * x_z_sign[1]];
            assert_eq!(s.splats.means[i].map(|v| v + 0.0), want, "{name} splat {i}");
            // Scale byte round((ln 0.1 + 10) · 16) = 123 → 123/16 − 10.
            assert_eq!(s.splats.log_scales[i], [123.0 / 16.0 - 10.0; 3], "{name}");
            assert_eq!(s.splats.opacity_logits[i], alpha, "{name}");
            assert!(
                qdot(s.splats.rotations[i], [1.0, 0.0, 0.0, 0.0]) > 0.9999,
                "{name}"
            );
        }
        // v3/v4 store colours as SPZ specifies, (f_dc · 0.15 + 0.5) · 255: bytes 105/150
        // decode within one step of the .splat fixture's colours.
        if version >= 3 {
            let dc = ((85.0 / 255.0 - 0.5) / SH_C0) as f32;
            assert!((s.splats.sh[0] - dc).abs() < 1.0 / (255.0 * 0.15), "{name}");
        }
    }

    let s = read_scene(&data("playcanvas_test_sh.compressed.ply")).unwrap();
    assert_eq!(s.format, Format::CompressedPly);
    assert_eq!((s.splats.len(), s.splats.sh_degree), (64, 3));
    s.splats.validate().unwrap();
    // Every SH byte b decodes to ((b + 0.5)/256 − 0.5)·8: a multiple of 1/32 offset by 1/64.
    for v in s.splats.sh.chunks(48).flat_map(|c| c[3..].iter().copied()) {
        let b = (v / 8.0 + 0.5) * 256.0 - 0.5;
        assert!(
            (b - b.round()).abs() < 1e-3 && (0.0..=255.0).contains(&b),
            "{v}"
        );
    }
}

#[test]
fn biker_from_spz_and_from_compressed_ply_agree() {
    let spz = read_scene(&data("playcanvas_biker.spz")).unwrap();
    let ply = read_scene(&data("playcanvas_biker.compressed.ply")).unwrap();
    assert_eq!(
        spz.format,
        Format::Spz {
            version: 4,
            container: SpzContainer::Zstd
        }
    );
    assert_eq!(ply.format, Format::CompressedPly);
    let (a, b) = (&spz.splats, &ply.splats);
    assert_eq!((a.len(), b.len()), (152_746, 152_746));
    a.validate().unwrap();
    b.validate().unwrap();
    let (mut pos, mut dot, mut scale, mut dc) = (0.0f32, 1.0f64, 0.0f32, 0.0f32);
    let mut below = 0;
    for i in 0..a.len() {
        for k in 0..3 {
            pos = pos.max((a.means[i][k] - b.means[i][k]).abs());
            // SPZ's log-scale range starts at -10; the compressed PLY goes lower.
            below += usize::from(b.log_scales[i][k] < -10.0);
            let want = b.log_scales[i][k].max(-10.0);
            scale = scale.max((a.log_scales[i][k] - want).abs());
            dc = dc.max((a.sh[i * 3 + k] - b.sh[i * 3 + k]).abs());
        }
        dot = dot.min(qdot(a.rotations[i], b.rotations[i]));
        // Both store the same 8-bit opacity byte.
        assert_eq!(a.opacity_logits[i], b.opacity_logits[i], "splat {i}");
    }
    eprintln!(
        "biker SPZ v4 vs compressed PLY: max |Δposition| {pos:.3e}, min |q·q'| {dot:.6}, \
         max |Δlog-scale| {scale:.4} ({below} PLY values below SPZ's -10 compared as -10), \
         max |Δf_dc| {dc:.4}"
    );
    assert!(pos < 2e-4, "positions differ by {pos}");
    assert!(dot >= 0.9999, "quaternions differ: min |dot| {dot}");
    // Log-scale: SPZ step 1/16 plus the compressed PLY's chunk step.
    assert!(scale < 0.05, "log-scales differ by {scale}");
    // f_dc: SPZ step 1/(255·0.15) = 0.026 plus the compressed PLY's colour step.
    assert!(dc < 0.04, "f_dc differs by {dc}");
}

/// Largest errors of `b` against `a` (same order): position, log-scale, opacity (activated),
/// f_dc, SH band 1, SH bands 2–3, and the smallest |q·q'|.
#[derive(Debug, Default)]
struct Errors {
    pos: f32,
    log_scale: f32,
    opacity: f64,
    dc: f32,
    sh1: f32,
    sh23: f32,
    dot: f64,
}

fn errors(a: &Splats, b: &Splats) -> Errors {
    assert_eq!((a.len(), a.sh_degree), (b.len(), b.sh_degree));
    let k = a.coeffs_per_splat();
    let mut e = Errors {
        dot: 1.0,
        ..Default::default()
    };
    for i in 0..a.len() {
        for c in 0..3 {
            e.pos = e.pos.max((a.means[i][c] - b.means[i][c]).abs());
            // SPZ stores log-scales in [-10, 5.94]: compare against the clamped value.
            let want = a.log_scales[i][c].clamp(-10.0, 255.0 / 16.0 - 10.0);
            e.log_scale = e.log_scale.max((want - b.log_scales[i][c]).abs());
        }
        e.opacity = e
            .opacity
            .max((sigmoid(a.opacity_logits[i]) - sigmoid(b.opacity_logits[i])).abs());
        e.dot = e.dot.min(qdot(a.rotations[i], b.rotations[i]));
        for j in 0..k * 3 {
            let d = (a.sh[i * k * 3 + j] - b.sh[i * k * 3 + j]).abs();
            match j / 3 {
                0 => e.dc = e.dc.max(d),
                1..=3 => e.sh1 = e.sh1.max(d),
                _ => e.sh23 = e.sh23.max(d),
            }
        }
    }
    e
}

/// A scene whose values lie inside SPZ's ranges (log-scale −10…5.9, |f_dc| < 3.3, SH in
/// [−1, 0.93]), positions up to ±50.
fn in_range_scene(n: usize, degree: u32, seed: u64) -> Splats {
    let mut rng = Rng::new(seed);
    let mut s = random_scene(&mut rng, n, degree);
    for (i, m) in s.means.iter_mut().enumerate() {
        *m = m.map(|v| v * if i % 7 == 0 { 6.0 } else { 1.0 });
    }
    for v in s.log_scales.iter_mut().flatten() {
        *v = v.clamp(-9.9, 5.8);
    }
    let k = s.coeffs_per_splat();
    for (j, v) in s.sh.iter_mut().enumerate() {
        *v = if j % (k * 3) < 3 {
            v.clamp(-3.2, 3.2)
        } else {
            v.clamp(-0.99, 0.92)
        };
    }
    s
}

#[test]
fn ply_to_spz_to_ply_stays_within_the_quantization_steps() {
    let dir = scratch("roundtrip");
    let biker = read_scene(&data("playcanvas_biker.compressed.ply"))
        .unwrap()
        .splats;
    let scenes = [
        ("biker (real, SH 0)", biker),
        ("random SH 3", in_range_scene(20_000, 3, 1)),
        ("random SH 1", in_range_scene(5_000, 1, 2)),
    ];
    for (label, scene) in &scenes {
        let ply = dir.join("in.ply");
        write_scene(&ply, scene, OutputFormat::Ply, &WriteOptions::default()).unwrap();
        let original = read_scene(&ply).unwrap().splats;
        assert_eq!(&original, scene);
        for version in [2, 3, 4] {
            let spz = dir.join(format!("mid{version}.spz"));
            let opts = WriteOptions {
                spz_version: version,
                ..Default::default()
            };
            let report = write_scene(&spz, &original, OutputFormat::Spz, &opts).unwrap();
            let mid = read_scene(&spz).unwrap();
            let out = dir.join("out.ply");
            write_scene(
                &out,
                &mid.splats,
                OutputFormat::Ply,
                &WriteOptions::default(),
            )
            .unwrap();
            let back = read_scene(&out).unwrap().splats;
            assert_eq!(back, mid.splats);
            let e = errors(&original, &back);
            eprintln!(
                "{label}, SPZ v{version}: {:.1} B/splat; max error position {:.3e}, log-scale \
                 {:.4}, opacity {:.5}, f_dc {:.4}, SH1 {:.4}, SH2-3 {:.4}; min |q·q'| {:.6} {:?}",
                report.bytes as f64 / original.len() as f64,
                e.pos,
                e.log_scale,
                e.opacity,
                e.dc,
                e.sh1,
                e.sh23,
                e.dot,
                report.notes
            );
            // Half of each step (plus float rounding), as stated in the SPZ module docs.
            assert!(e.pos <= 0.5 / 4096.0 + 4e-6, "{label} v{version}: {e:?}");
            assert!(
                e.log_scale <= 1.0 / 32.0 + 1e-5,
                "{label} v{version}: {e:?}"
            );
            assert!(e.opacity <= 0.5 / 255.0 + 1e-6, "{label} v{version}: {e:?}");
            assert!(
                e.dc <= 0.5 / (255.0 * 0.15) + 1e-5,
                "{label} v{version}: {e:?}"
            );
            assert!(e.sh1 <= 1.0 / 32.0 + 1e-6, "{label} v{version}: {e:?}");
            assert!(e.sh23 <= 1.0 / 16.0 + 1e-6, "{label} v{version}: {e:?}");
            // v3/v4: components within √½/511/2; v2 stores x, y, z in 8 bits and derives w,
            // which is coarse when w is small.
            let min_dot = if version >= 3 { 0.99999 } else { 0.99 };
            assert!(e.dot >= min_dot, "{label} v{version}: {e:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spz_and_ply_render_the_same_with_the_same_camera() {
    // SH 3 splats in front of a camera at the origin (RDF). Quantized once through SPZ, the
    // scene is saved as PLY and as SPZ (stored RUB); both read back must render the same with
    // the same camera. The control shows the test would catch a wrong SH sign convention.
    let mut rng = Rng::new(42);
    let mut original = random_scene(&mut rng, 3000, 3);
    for v in original.sh.iter_mut() {
        *v = v.clamp(-0.99, 0.92);
    }
    let dir = scratch("render");
    let spz_path = dir.join("scene.spz");
    let ply_path = dir.join("scene.ply");
    let opts = WriteOptions::default();
    write_scene(&spz_path, &original, OutputFormat::Spz, &opts).unwrap();
    let scene = read_scene(&spz_path).unwrap().splats;
    write_scene(&ply_path, &scene, OutputFormat::Ply, &opts).unwrap();
    write_scene(&spz_path, &scene, OutputFormat::Spz, &opts).unwrap();
    let from_ply = read_scene(&ply_path).unwrap().splats;
    let from_spz = read_scene(&spz_path).unwrap().splats;

    let cam = camera(96, 72, 80.0, 80.0, 48.0, 36.0);
    let settings = RenderSettings {
        mode: RenderMode::Classic,
        background: [0.0; 3],
        ..Default::default()
    };
    let ply_img = reference::render(&from_ply, &cam, &settings).rgba;
    let diff = |s: &Splats| -> (f64, f32) {
        let img = reference::render(s, &cam, &settings).rgba;
        let mut sum = 0.0;
        let mut max = 0.0f32;
        for (a, b) in img.iter().zip(&ply_img) {
            sum += f64::from((a - b).abs());
            max = max.max((a - b).abs());
        }
        (sum / img.len() as f64, max)
    };
    let (spz_mean, spz_max) = diff(&from_spz);
    let (quant_mean, quant_max) = diff(&original);

    // Control: the SPZ data with the SH sign changes of the frame conversion undone.
    let mut wrong = from_spz.clone();
    let k = wrong.coeffs_per_splat();
    let flips = [
        1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0,
    ];
    for (j, v) in wrong.sh.iter_mut().enumerate() {
        *v *= flips[(j / 3) % k];
    }
    let (wrong_mean, _) = diff(&wrong);
    eprintln!(
        "render |SPZ − PLY| of the same scene: mean {spz_mean:.2e}, max {spz_max:.2e}; \
         SH signs not converted: mean {wrong_mean:.2e}; for scale, SPZ quantization of the \
         unquantized scene: mean {quant_mean:.2e}, max {quant_max:.2e}"
    );
    assert!(spz_mean < 1e-4 && spz_max < 2e-2, "SPZ renders differently");
    assert!(wrong_mean > 100.0 * spz_mean, "control not discriminating");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_scene_streams_big_endian_ascii_and_double_plys() {
    // The INRIA reader (also used by read_scene) keeps its formats: ASCII and doubles.
    let ply = b"ply\nformat ascii 1.0\ncomment antialiased\nelement vertex 1\n\
        property double x\nproperty double y\nproperty double z\nproperty float f_dc_0\n\
        property float f_dc_1\nproperty float f_dc_2\nproperty float opacity\n\
        property float scale_0\nproperty float scale_1\nproperty float scale_2\n\
        property float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\n\
        end_header\n1 2 3 0.1 0.2 0.3 0.5 -1 -2 -3 2 0 0 0\n";
    let s = parse_scene(ply, Path::new("a.ply")).unwrap();
    assert_eq!(s.format, Format::Ply(PlyEncoding::Ascii));
    assert!(s.antialiased);
    assert_eq!(s.splats.means[0], [1.0, 2.0, 3.0]);
    assert_eq!(s.splats.rotations[0], [1.0, 0.0, 0.0, 0.0]);
}

fn input_error(bytes: &[u8], name: &str) -> String {
    match parse_scene(bytes, Path::new(name)) {
        Err(e @ IoError::Input { .. }) => {
            let m = e.to_string();
            assert!(m.starts_with(name), "{m}");
            m
        }
        Err(e) => panic!("{name}: not an input error: {e}"),
        Ok(s) => panic!("{name}: accepted ({} splats)", s.splats.len()),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn spz_header(version: u32, count: u32, sh: u8) -> Vec<u8> {
    let mut h = b"NGSP".to_vec();
    h.extend_from_slice(&version.to_le_bytes());
    h.extend_from_slice(&count.to_le_bytes());
    h.extend_from_slice(&[sh, 12, 0, 0]);
    h
}

#[test]
fn bad_files_are_clear_input_errors() {
    let v3 = std::fs::read(data("splat-transform_minimal-v3.spz")).unwrap();
    let v4 = std::fs::read(data("splat-transform_minimal-v4.spz")).unwrap();

    // Counts that the file cannot hold, before anything is allocated for them.
    let m = input_error(&gzip(&spz_header(3, u32::MAX, 3)), "a.spz");
    assert!(m.contains("more than the 134217728"), "{m}");
    let m = input_error(&gzip(&spz_header(3, 100_000_000, 3)), "a.spz");
    assert!(m.contains("can hold at most"), "{m}");
    let mut h = v4.clone();
    h[8..12].copy_from_slice(&100_000_000u32.to_le_bytes());
    let m = input_error(&h, "a.spz");
    assert!(m.contains("declares 36 bytes"), "{m}");
    // A decompression bomb: a small count, then far more data than it needs.
    let mut bomb = spz_header(3, 1, 0);
    bomb.resize(64 << 20, 0);
    let m = input_error(&gzip(&bomb), "bomb.spz");
    assert!(m.contains("decompression bomb"), "{m}");
    // Unknown versions, bad degrees, truncation, corruption.
    let m = input_error(&gzip(&spz_header(7, 1, 0)), "a.spz");
    assert!(m.contains("unsupported SPZ version 7"), "{m}");
    let m = input_error(&gzip(&spz_header(2, 1, 5)), "a.spz");
    assert!(m.contains("SH degree 5"), "{m}");
    let m = input_error(&v3[..v3.len() - 9], "a.spz");
    assert!(m.contains("truncated"), "{m}");
    let mut corrupt = v3.clone();
    corrupt[20] ^= 0xff;
    input_error(&corrupt, "a.spz");
    let m = input_error(&v4[..v4.len() - 5], "a.spz");
    assert!(m.contains("truncated"), "{m}");
    let mut toc = v4.clone();
    toc[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let m = input_error(&toc, "a.spz");
    assert!(m.contains("table of contents"), "{m}");
    let mut streams = v4.clone();
    streams[15] = 9;
    let m = input_error(&streams, "a.spz");
    assert!(m.contains("9 streams"), "{m}");

    // .splat: whole records only.
    let splat = std::fs::read(data("splat-transform_minimal.splat")).unwrap();
    let m = input_error(&splat[..100], "a.splat");
    assert!(m.contains("not a multiple of 32"), "{m}");

    // Compressed PLY: too few chunks, truncated, wrong property types.
    let cp = std::fs::read(data("playcanvas_test_sh.compressed.ply")).unwrap();
    let text = |b: &[u8], from: &str, to: &str| -> Vec<u8> {
        let end = b.windows(10).position(|w| w == b"end_header").unwrap();
        let head = String::from_utf8(b[..end].to_vec())
            .unwrap()
            .replacen(from, to, 1);
        [head.as_bytes(), &b[end..]].concat()
    };
    let m = input_error(
        &text(&cp, "element vertex 64", "element vertex 300"),
        "c.ply",
    );
    assert!(m.contains("need 2 chunks"), "{m}");
    let m = input_error(&cp[..cp.len() - 1], "c.ply");
    assert!(m.contains("truncated"), "{m}");
    let m = input_error(
        &text(
            &cp,
            "property uint packed_color",
            "property int packed_color",
        ),
        "c.ply",
    );
    assert!(m.contains("packed_color"), "{m}");

    // Nothing recognisable.
    let m = input_error(b"hello world, this is not a scene", "x.ply");
    assert!(m.contains("unrecognised scene format"), "{m}");
}

/// An SPZ v3 payload of `n` splats with SH degree 4 (band 4 bytes `200 + i + j`) and the
/// extension records `ext` after the arrays.
fn sh4_spz(n: u32, ext: &[u8]) -> Vec<u8> {
    let mut p = spz_header(3, n, 4);
    p[14] = if ext.is_empty() { 0 } else { 2 };
    for i in 0..n {
        let v = (i as f32 * 0.37).sin() * 3.0;
        for c in [v, -v, 2.0 * v] {
            p.extend_from_slice(&((c * 4096.0) as i32).to_le_bytes()[..3]);
        }
    }
    p.extend((0..n).map(|i| 100 + i as u8)); // alphas
    p.extend((0..3 * n).map(|i| 60 + (i % 100) as u8)); // colours
    p.extend((0..3 * n).map(|i| 90 + (i % 50) as u8)); // scales
    for _ in 0..n {
        p.extend_from_slice(&0xC000_0000u32.to_le_bytes()); // identity
    }
    for i in 0..n {
        // Bands 1-3 on their 5- and 4-bit grids (stable through a round trip), then band 4.
        for j in 0..45u32 {
            let bits = if j < 9 { 8 } else { 16 };
            p.push((128 + bits * ((i + j) % 7) - bits * 3) as u8);
        }
        p.extend((0..27u32).map(|j| (200 + i + j) as u8));
    }
    p.extend_from_slice(ext);
    gzip(&p)
}

fn ext_record(kind: u32, payload: &[u8]) -> Vec<u8> {
    let mut r = kind.to_le_bytes().to_vec();
    r.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    r.extend_from_slice(payload);
    r
}

#[test]
fn spz_sh_band_4_and_extensions_are_carried_through_spz_to_spz() {
    let dir = scratch("sh4");
    let orbit = ext_record(0xADBE_0002, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // RUB (4), the frame SPZ stores anyway: another frame would be converted on read, and its
    // band 4 dropped (vksplat does not rotate band 4; see the spz unit tests).
    let frame = ext_record(0xADBE_0003, &[4, 0, 0, 0]);
    let ext = [orbit.clone(), frame].concat();
    let src = dir.join("in.spz");
    std::fs::write(&src, sh4_spz(5, &ext)).unwrap();
    let input = read_scene(&src).unwrap();
    assert_eq!(input.splats.sh_degree, 3);
    let band4: Vec<u8> = (0..5u8)
        .flat_map(|i| (0..27u8).map(move |j| 200 + i + j))
        .collect();
    assert_eq!(input.spz_extra.sh_band4, band4);
    assert_eq!(input.spz_extra.extensions, ext);
    assert!(input.notes.iter().any(|n| n.contains("band 4 kept")));

    for version in [3, 4] {
        let out = dir.join(format!("v{version}.spz"));
        let opts = WriteOptions {
            spz_version: version,
            ..Default::default()
        };
        let report = write_scene_with(
            &out,
            &input.splats,
            &input.spz_extra,
            OutputFormat::Spz,
            &opts,
        )
        .unwrap();
        // The coordinate-system record would mislabel vksplat's RUB output: dropped.
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
        assert!(report.notes[0].contains("coordinate-system"));
        let back = read_scene(&out).unwrap();
        assert_eq!(back.spz_extra.sh_band4, band4, "v{version}");
        assert_eq!(back.spz_extra.extensions, orbit, "v{version}");
        assert_eq!(back.splats, input.splats, "v{version}");
        // The file says degree 4 (header byte 12; v3 inside the gzip stream).
        let bytes = std::fs::read(&out).unwrap();
        let header = if version == 3 {
            let mut h = [0u8; 16];
            std::io::Read::read_exact(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut h)
                .unwrap();
            h.to_vec()
        } else {
            bytes[..16].to_vec()
        };
        assert_eq!(header[12], 4, "v{version}");
    }
    // What cannot hold them says so.
    let v2 = WriteOptions {
        spz_version: 2,
        ..Default::default()
    };
    let r = write_scene_with(
        &dir.join("v2.spz"),
        &input.splats,
        &input.spz_extra,
        OutputFormat::Spz,
        &v2,
    )
    .unwrap();
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("dropped SH band 4 (SPZ v2")));
    assert!(r.notes.iter().any(|n| n.contains("SPZ v2 has none")));
    assert_eq!(read_scene(&dir.join("v2.spz")).unwrap().splats.sh_degree, 3);
    let r = write_scene_with(
        &dir.join("o.ply"),
        &input.splats,
        &input.spz_extra,
        OutputFormat::Ply,
        &WriteOptions::default(),
    )
    .unwrap();
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("dropped SH band 4 (INRIA PLY")));
    let mut fewer = input.splats.clone();
    fewer.means[0] = [f32::NAN; 3];
    fewer.drop_invalid();
    let r = write_scene_with(
        &dir.join("fewer.spz"),
        &fewer,
        &input.spz_extra,
        OutputFormat::Spz,
        &WriteOptions::default(),
    )
    .unwrap();
    assert!(r.notes.iter().any(|n| n.contains("splats were dropped")));

    // The CLI: spz -> spz keeps band 4, --sh-degree and PLY output drop it with a note.
    use vksplat_tests::cli::{assert_exit, stderr, vksplat};
    let arg = |p: &Path| p.to_string_lossy().into_owned();
    let out = dir.join("cli.spz");
    let o = vksplat(&["convert", &arg(&src), &arg(&out), "--spz-version", "4"]);
    assert_exit(&o, 0);
    assert_eq!(read_scene(&out).unwrap().spz_extra.sh_band4, band4);
    let o = vksplat(&["info", "--json", &arg(&out)]);
    assert_exit(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["notes"].to_string().contains("band 4 kept"), "{v}");
    let o = vksplat(&["convert", &arg(&src), &arg(&dir.join("cli.ply"))]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("dropped SH band 4"), "{}", stderr(&o));
    let o = vksplat(&["convert", &arg(&src), &arg(&out), "--sh-degree", "3"]);
    assert_exit(&o, 0);
    assert!(read_scene(&out).unwrap().spz_extra.sh_band4.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
