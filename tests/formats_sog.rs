//! PlayCanvas SOG (version 2): a hand-made `meta.json` + WebP set, built here from the
//! specification's formulas (independent of the library's writer), decodes to the values the
//! specification gives; scenes written by vksplat (`.sog` bundles) read back within the
//! format's quantization; `vksplat info` describes one; broken files are input errors (exit 3)
//! naming the file.

use std::path::Path;

use vksplat_io::{parse_scene, read_scene, write_scene, Format, IoError, OutputFormat, Splats};
use vksplat_io::{Axes, WriteOptions};
use vksplat_tests::cli::{assert_exit, stderr, vksplat, TempDir};
use vksplat_tests::{random_scene, Rng};

fn sigmoid(x: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(x)).exp())
}

/// A lossless RGBA WebP of `px` (row-major) at `width` × `height`.
fn webp(px: &[[u8; 4]], width: u32, height: u32) -> Vec<u8> {
    let rgba: Vec<u8> = px.iter().flatten().copied().collect();
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(&rgba, width, height, image_webp::ColorType::Rgba8)
        .unwrap();
    out
}

fn ramp(scale: f32, offset: f32) -> Vec<f32> {
    (0..256).map(|k| offset + scale * k as f32).collect()
}

/// Writes a 3-splat SOG (2x2 images, one trailing pixel) with SH band 1 into `dir`.
fn hand_made(dir: &Path, count: usize, quat_alpha: u8) -> std::path::PathBuf {
    let meta = serde_json::json!({
        "version": 2,
        "count": count,
        "antialias": true,
        "means": {"mins": [-2.0, 0.0, 1.0], "maxs": [2.0, 1.0, 3.0],
                  "files": ["ml.webp", "mu.webp"]},
        "scales": {"codebook": ramp(0.01, -4.0), "files": ["s.webp"]},
        "quats": {"files": ["q.webp"]},
        "sh0": {"codebook": ramp(0.02, -2.0), "files": ["c.webp"]},
        "shN": {"count": 2, "bands": 1, "codebook": ramp(0.004, -0.5),
                "files": ["cent.webp", "lab.webp"]}
    });
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    let write = |name: &str, px: &[[u8; 4]], w: u32, h: u32| {
        std::fs::write(dir.join(name), webp(px, w, h)).unwrap();
    };
    // Splat 0: q = 0 on every axis, splat 1: 65535, splat 2: 0x1234 / 0x8000 / 0xffff.
    write(
        "ml.webp",
        &[
            [0, 0, 0, 255],
            [255, 255, 255, 255],
            [0x34, 0x00, 0xff, 255],
            [9; 4],
        ],
        2,
        2,
    );
    write(
        "mu.webp",
        &[
            [0, 0, 0, 255],
            [255, 255, 255, 255],
            [0x12, 0x80, 0xff, 255],
            [9; 4],
        ],
        2,
        2,
    );
    write(
        "q.webp",
        &[
            [128, 100, 200, 252],
            [0, 255, 128, quat_alpha],
            [128, 128, 128, 254],
            [0; 4],
        ],
        2,
        2,
    );
    write(
        "s.webp",
        &[[0, 1, 2, 255], [100, 200, 255, 255], [7, 7, 7, 255], [0; 4]],
        2,
        2,
    );
    write(
        "c.webp",
        &[
            [0, 128, 255, 0],
            [10, 20, 30, 255],
            [100, 100, 100, 128],
            [0; 4],
        ],
        2,
        2,
    );
    // Palette: 2 entries of 3 coefficients in a 192x1 image.
    let mut cent = vec![[0u8, 0, 0, 255]; 192];
    for (p, px) in cent.iter_mut().enumerate().take(6) {
        *px = [p as u8 * 10, p as u8 * 10 + 1, p as u8 * 10 + 2, 255];
    }
    write("cent.webp", &cent, 192, 1);
    write(
        "lab.webp",
        &[[1, 0, 0, 255], [0, 0, 0, 255], [1, 0, 0, 255], [0; 4]],
        2,
        2,
    );
    dir.join("meta.json")
}

#[test]
fn hand_made_sog_decodes_per_the_specification() {
    let dir = TempDir::new("sog-hand");
    let meta = hand_made(&dir.0, 3, 255);
    let f = read_scene(&meta).unwrap();
    assert_eq!(f.format, Format::Sog { bundled: false });
    assert_eq!(f.frame, Axes::Rdf);
    assert!(f.antialiased);
    let s = &f.splats;
    assert_eq!((s.len(), s.sh_degree), (3, 1));
    let unlog = |n: f64| n.signum() * (n.abs().exp() - 1.0);
    let lerp = |a: f64, b: f64, q: u32| a + (b - a) * f64::from(q) / 65535.0;
    let want_means = [
        [unlog(-2.0), unlog(0.0), unlog(1.0)],
        [unlog(2.0), unlog(1.0), unlog(3.0)],
        [
            unlog(lerp(-2.0, 2.0, 0x1234)),
            unlog(lerp(0.0, 1.0, 0x8000)),
            unlog(3.0),
        ],
    ];
    for (i, want) in want_means.iter().enumerate() {
        for (a, &w) in want.iter().enumerate() {
            let got = f64::from(s.means[i][a]);
            assert!(
                (got - w).abs() <= 1e-5 * (1.0 + w.abs()),
                "mean {i}.{a}: {got} vs {w}"
            );
        }
    }
    // Quaternions (PLY order w, x, y, z): mode 0 puts the rebuilt component first.
    let comp = |c: u8| (f64::from(c) / 255.0 - 0.5) * std::f64::consts::SQRT_2;
    let rebuilt = |a: f64, b: f64, c: f64| (1.0 - a * a - b * b - c * c).max(0.0).sqrt();
    let (a, b, c) = (comp(128), comp(100), comp(200));
    let want_q = [
        [rebuilt(a, b, c), a, b, c],
        [
            comp(0),
            comp(255),
            comp(128),
            rebuilt(comp(0), comp(255), comp(128)),
        ],
        [
            comp(128),
            comp(128),
            rebuilt(comp(128), comp(128), comp(128)),
            comp(128),
        ],
    ];
    for (i, want) in want_q.iter().enumerate() {
        for k in 0..4 {
            assert!(
                (f64::from(s.rotations[i][k]) - want[k]).abs() < 1e-5,
                "quat {i}: {:?} vs {want:?}",
                s.rotations[i]
            );
        }
    }
    let scale = |k: u8| -4.0 + 0.01 * f32::from(k);
    assert_eq!(s.log_scales[1], [scale(100), scale(200), scale(255)]);
    let dc = |k: u8| -2.0 + 0.02 * f32::from(k);
    assert_eq!(&s.sh[0..3], &[dc(0), dc(128), dc(255)]);
    assert_eq!(&s.sh[12..15], &[dc(10), dc(20), dc(30)]);
    for (i, alpha) in [(0, 0u8), (1, 255), (2, 128)] {
        let p = sigmoid(s.opacity_logits[i]);
        assert!(
            (p - f64::from(alpha) / 255.0).abs() < 0.002,
            "opacity {i}: {p}"
        );
    }
    // SH band 1 of splat 0 is palette entry 1 (pixels 3..6), of splat 1 entry 0.
    let ac = |k: u8| -0.5 + 0.004 * f32::from(k);
    for c in 0..3u8 {
        for ch in 0..3u8 {
            let v0 = s.sh[(c as usize + 1) * 3 + ch as usize];
            assert_eq!(v0, ac((3 + c) * 10 + ch), "splat 0 coeff {c} ch {ch}");
            let v1 = s.sh[12 + (c as usize + 1) * 3 + ch as usize];
            assert_eq!(v1, ac(c * 10 + ch), "splat 1 coeff {c} ch {ch}");
        }
    }
}

#[test]
fn broken_hand_made_sets_are_input_errors_naming_the_file() {
    let dir = TempDir::new("sog-bad");
    // More splats than the 2x2 images hold.
    let meta = hand_made(&dir.0, 5, 255);
    let msg = read_scene(&meta).unwrap_err().to_string();
    assert!(msg.contains("fewer pixels than the 5 splats"), "{msg}");
    assert!(msg.contains("ml.webp"), "{msg}");
    // A reserved quaternion mode byte.
    let meta = hand_made(&dir.0, 3, 200);
    let msg = read_scene(&meta).unwrap_err().to_string();
    assert!(msg.contains("quaternion mode byte 200"), "{msg}");
    // A truncated image: the error's path is the image.
    let meta = hand_made(&dir.0, 3, 255);
    let q = std::fs::read(dir.join("q.webp")).unwrap();
    std::fs::write(dir.join("q.webp"), &q[..q.len() / 2]).unwrap();
    let out = vksplat(&["info", meta.to_str().unwrap()]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("q.webp"), "{}", stderr(&out));
    // A missing image.
    let meta = hand_made(&dir.0, 3, 255);
    std::fs::remove_file(dir.join("s.webp")).unwrap();
    match read_scene(&meta) {
        Err(IoError::Input { path, .. }) => assert_eq!(path, dir.join("s.webp")),
        other => panic!("{:?}", other.map(|f| f.splats.len())),
    }
}

/// Largest per-splat errors, and the bounds the quantization allows, of `b` against `a`.
fn check_round_trip(a: &Splats, b: &Splats) {
    assert_eq!((a.len(), a.sh_degree), (b.len(), b.sh_degree));
    let range = |v: &mut dyn Iterator<Item = f32>| {
        v.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        })
    };
    let span = |r: (f32, f32)| f64::from(r.1 - r.0);
    let lg = |x: f32| f64::from(x.signum()) * (f64::from(x.abs()) + 1.0).ln();
    let k = a.coeffs_per_splat() * 3;
    let scale_step = span(range(&mut a.log_scales.iter().flatten().copied())) / 255.0;
    let dc_step = span(range(
        &mut (0..a.len()).flat_map(|i| a.sh[i * k..i * k + 3].iter().copied()),
    )) / 255.0;
    let ac_step = span(range(
        &mut (0..a.len()).flat_map(|i| a.sh[i * k + 3..(i + 1) * k].iter().copied()),
    )) / 255.0;
    let mut worst_q = 0.0f64;
    for i in 0..a.len() {
        for ax in 0..3 {
            let r = range(&mut a.means.iter().map(|m| lg(m[ax]) as f32));
            let step = span(r) / 65535.0;
            let x = f64::from(a.means[i][ax]);
            let bound = (x.abs() + 1.0) * step * 0.51 + 1e-6 * (1.0 + x.abs());
            let d = (x - f64::from(b.means[i][ax])).abs();
            assert!(d <= bound, "mean {i}.{ax}: {d} > {bound}");
            let d = f64::from((a.log_scales[i][ax] - b.log_scales[i][ax]).abs());
            assert!(d <= scale_step * 0.51 + 1e-6, "scale {i}.{ax}: {d}");
        }
        // q and -q are the same rotation.
        let dot: f32 = (0..4).map(|c| a.rotations[i][c] * b.rotations[i][c]).sum();
        let sign = dot.signum();
        for c in 0..4 {
            worst_q = worst_q.max(f64::from(
                (a.rotations[i][c] - sign * b.rotations[i][c]).abs(),
            ));
        }
        let d = (sigmoid(a.opacity_logits[i]) - sigmoid(b.opacity_logits[i])).abs();
        assert!(d <= 0.5 / 255.0 + 1e-4, "opacity {i}: {d}");
        for j in 0..k {
            let d = f64::from((a.sh[i * k + j] - b.sh[i * k + j]).abs());
            let step = if j < 3 { dc_step } else { ac_step };
            assert!(d <= step * 0.51 + 1e-6, "sh {i}.{j}: {d} > {step}/2");
        }
    }
    // Three components at 8 bits over [-√2/2, √2/2]: half a step ≈ 0.0028 each; the rebuilt
    // one inherits a few of those.
    assert!(worst_q < 0.02, "rotation error {worst_q}");
}

#[test]
fn written_sog_reads_back_within_its_quantization() {
    let dir = TempDir::new("sog-rt");
    for (n, degree, seed) in [(700usize, 3u32, 1u64), (300, 0, 2), (65, 1, 3), (40, 2, 4)] {
        let mut a = random_scene(&mut Rng::new(seed), n, degree);
        a.means[0] = [0.0, -1e-3, 250.0];
        let path = dir.0.join(format!("s{degree}.sog"));
        let opts = WriteOptions {
            antialiased: degree == 1,
            ..Default::default()
        };
        let report = write_scene(&path, &a, OutputFormat::Sog, &opts).unwrap();
        assert_eq!(report.bytes, std::fs::metadata(&path).unwrap().len());
        let f = read_scene(&path).unwrap();
        assert_eq!(f.format, Format::Sog { bundled: true });
        assert_eq!(f.antialiased, degree == 1);
        check_round_trip(&a, &f.splats);
        // The bundle is found by content too (a zip naming meta.json).
        let bytes = std::fs::read(&path).unwrap();
        let found = parse_scene(&bytes, Path::new("scene.bin")).unwrap();
        assert_eq!(found.splats.means, f.splats.means);
    }
    // An empty scene round-trips.
    let path = dir.0.join("empty.sog");
    write_scene(
        &path,
        &Splats::default(),
        OutputFormat::Sog,
        &WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(read_scene(&path).unwrap().splats.len(), 0);
}

#[test]
fn higher_sh_beyond_the_palette_is_refused() {
    let dir = TempDir::new("sog-big");
    let a = random_scene(&mut Rng::new(5), 65_537, 1);
    let err = write_scene(
        &dir.0.join("big.sog"),
        &a,
        OutputFormat::Sog,
        &WriteOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--sh-degree 0"), "{err}");
    assert!(!dir.0.join("big.sog").exists());
}

#[test]
fn info_and_convert_handle_sog() {
    let dir = TempDir::new("sog-cli");
    let a = random_scene(&mut Rng::new(7), 200, 2);
    let ply = dir.0.join("a.ply");
    write_scene(&ply, &a, OutputFormat::Ply, &WriteOptions::default()).unwrap();
    let sog = dir.0.join("a.sog");
    let out = vksplat(&["convert", ply.to_str().unwrap(), sog.to_str().unwrap()]);
    assert_exit(&out, 0);
    let out = vksplat(&["info", "--json", sog.to_str().unwrap()]);
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "sog");
    assert_eq!(v["count"], 200);
    assert_eq!(v["sh_degree"], 2);
    check_round_trip(&a, &read_scene(&sog).unwrap().splats);
}

fn bundle_error(bytes: &[u8]) -> String {
    match parse_scene(bytes, Path::new("x.sog")) {
        Err(IoError::Input { path, message }) => {
            assert_eq!(path, Path::new("x.sog"));
            message
        }
        Err(e) => panic!("not an input error: {e}"),
        Ok(s) => panic!("parsed {} splats", s.splats.len()),
    }
}

#[test]
fn broken_bundles_are_input_errors() {
    let dir = TempDir::new("sog-bundle");
    let path = dir.0.join("a.sog");
    let a = random_scene(&mut Rng::new(9), 100, 1);
    write_scene(&path, &a, OutputFormat::Sog, &WriteOptions::default()).unwrap();
    let good = std::fs::read(&path).unwrap();
    let renamed = {
        // Rename meta.json (local header and directory) so the archive has none.
        let mut b = good.clone();
        let mut at = 0;
        while let Some(p) = b[at..].windows(9).position(|w| w == b"meta.json") {
            b[at + p + 8] = b'x';
            at += p + 9;
        }
        b
    };
    let msg = bundle_error(&renamed);
    assert!(msg.contains("no 'meta.json'"), "{msg}");
    let msg = bundle_error(&good[..good.len() - 30]);
    assert!(msg.contains("zip"), "{msg}");
    let mut flipped = good.clone();
    let mid = good.len() / 2;
    flipped[mid] ^= 0x55;
    let msg = bundle_error(&flipped);
    assert!(msg.contains("CRC-32") || msg.contains("WebP"), "{msg}");
    // The CLI: exit 3 naming the file.
    let bad = dir.0.join("bad.sog");
    std::fs::write(&bad, &renamed).unwrap();
    let out = vksplat(&["info", bad.to_str().unwrap()]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("bad.sog"), "{}", stderr(&out));
}
