//! PlayCanvas SOG (versions 2 and 1): hand-made `meta.json` + WebP sets, built here from the
//! formats' formulas (independent of the library's writer), decode to the values the
//! formats give; scenes written by vksplat (`.sog` bundles) read back within the
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

/// Writes a 3-splat SOG version 1 set (no "version", linear ranges, 2x2 images) with an SH
/// band-2 palette of two rows (512x2: 128 entries) into `dir`; `sh_width` overrides the
/// centroid image's width.
fn hand_made_v1(dir: &Path, sh_width: u32) -> std::path::PathBuf {
    let meta = serde_json::json!({
        "means": {"shape": [3, 3], "dtype": "float32", "mins": [-1.0, 0.0, 0.5],
                  "maxs": [1.0, 2.0, 0.5], "files": ["ml.webp", "mu.webp"]},
        "scales": {"shape": [3, 3], "dtype": "float32", "mins": [-6.0, -5.0, -4.0],
                   "maxs": [0.0, 1.0, 2.0], "files": ["s.webp"]},
        "quats": {"shape": [3, 4], "dtype": "uint8", "encoding": "quaternion_packed",
                  "files": ["q.webp"]},
        "sh0": {"shape": [3, 1, 4], "dtype": "float32", "mins": [-2.0, -1.0, 0.0, -5.0],
                "maxs": [2.0, 1.0, 3.0, 7.0], "files": ["c.webp"]},
        "shN": {"shape": [3, 24], "dtype": "float32", "mins": -0.6, "maxs": 0.9,
                "quantization": 8, "files": ["cent.webp", "lab.webp"]}
    });
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    let write = |name: &str, px: &[[u8; 4]], w: u32, h: u32| {
        std::fs::write(dir.join(name), webp(px, w, h)).unwrap();
    };
    let px4 = |a: [u8; 4], b: [u8; 4], c: [u8; 4]| [a, b, c, [0; 4]];
    write(
        "ml.webp",
        &px4([0, 0, 0, 255], [255, 255, 0, 255], [0x00, 0x34, 7, 255]),
        2,
        2,
    );
    write(
        "mu.webp",
        &px4([0, 0, 0, 255], [255, 255, 0, 255], [0x80, 0x12, 9, 255]),
        2,
        2,
    );
    write(
        "q.webp",
        &px4(
            [128, 100, 200, 252],
            [0, 255, 128, 255],
            [128, 128, 128, 253],
        ),
        2,
        2,
    );
    write(
        "s.webp",
        &px4([0, 255, 51, 255], [102, 0, 255, 255], [1, 2, 3, 255]),
        2,
        2,
    );
    write(
        "c.webp",
        &px4([0, 255, 85, 0], [51, 102, 170, 255], [1, 2, 3, 4]),
        2,
        2,
    );
    // 128 entries of 8 coefficients; entry e's coefficient c is (e + c, 2c, 255 - e).
    let mut cent = vec![[0u8, 0, 0, 255]; (sh_width * 2) as usize];
    for e in 0..128usize {
        for c in 0..8usize {
            let x = e % 64 * 8 + c;
            let p = e / 64 * sh_width as usize + x;
            if x < sh_width as usize {
                cent[p] = [(e + c) as u8, 2 * c as u8, 255 - e as u8, 255];
            }
        }
    }
    write("cent.webp", &cent, sh_width, 2);
    // Splat 0: entry 100 (second row), splat 1: entry 0, splat 2: entry 127.
    write(
        "lab.webp",
        &px4([100, 0, 0, 255], [0, 0, 0, 255], [127, 0, 0, 255]),
        2,
        2,
    );
    dir.join("meta.json")
}

#[test]
fn hand_made_sog_version_1_decodes_per_its_layout() {
    let dir = TempDir::new("sog-v1");
    let meta = hand_made_v1(&dir.0, 512);
    let f = read_scene(&meta).unwrap();
    assert_eq!(f.format, Format::Sog { bundled: false });
    assert!(!f.antialiased);
    let s = &f.splats;
    assert_eq!((s.len(), s.sh_degree), (3, 2));
    let unlog = |n: f64| n.signum() * (n.abs().exp() - 1.0);
    let lerp16 = |a: f64, b: f64, q: u32| a + (b - a) * f64::from(q) / 65535.0;
    let want_means = [
        [unlog(-1.0), unlog(0.0), unlog(0.5)],
        [unlog(1.0), unlog(2.0), unlog(0.5)],
        [
            unlog(lerp16(-1.0, 1.0, 0x8000)),
            unlog(lerp16(0.0, 2.0, 0x1234)),
            unlog(0.5),
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
    // Quaternions as in version 2: splat 2's mode 253 rebuilds x.
    let comp = |c: u8| (f64::from(c) / 255.0 - 0.5) * std::f64::consts::SQRT_2;
    let c = comp(128);
    let want_q2 = [c, (1.0 - 3.0 * c * c).sqrt(), c, c];
    for (got, want) in s.rotations[2].iter().zip(want_q2) {
        assert!((f64::from(*got) - want).abs() < 1e-5);
    }
    // Linear 8-bit ranges per channel: min + (max − min)·b/255.
    let lerp8 = |a: f64, b: f64, q: u8| a + (b - a) * f64::from(q) / 255.0;
    let near = |got: f32, want: f64, what: &str| {
        assert!(
            (f64::from(got) - want).abs() < 1e-5,
            "{what}: {got} vs {want}"
        );
    };
    let scale_ranges = [(-6.0, 0.0), (-5.0, 1.0), (-4.0, 2.0)];
    for (i, bytes) in [[0u8, 255, 51], [102, 0, 255], [1, 2, 3]]
        .iter()
        .enumerate()
    {
        for a in 0..3 {
            let (lo, hi) = scale_ranges[a];
            near(s.log_scales[i][a], lerp8(lo, hi, bytes[a]), "scale");
        }
    }
    let k = s.coeffs_per_splat() * 3;
    let dc_ranges = [(-2.0, 2.0), (-1.0, 1.0), (0.0, 3.0)];
    for (i, bytes) in [[0u8, 255, 85, 0], [51, 102, 170, 255], [1, 2, 3, 4]]
        .iter()
        .enumerate()
    {
        for ch in 0..3 {
            let (lo, hi) = dc_ranges[ch];
            near(s.sh[i * k + ch], lerp8(lo, hi, bytes[ch]), "dc");
        }
        // A is the opacity logit itself (not a sigmoid value).
        near(
            s.opacity_logits[i],
            lerp8(-5.0, 7.0, bytes[3]),
            "opacity logit",
        );
    }
    // SH through the palette, one scalar range for every coefficient.
    for (i, entry) in [(0usize, 100usize), (1, 0), (2, 127)] {
        for c in 0..8 {
            let want = [(entry + c) as u8, 2 * c as u8, 255 - entry as u8];
            let o = i * k + (c + 1) * 3;
            for (&got, b) in s.sh[o..o + 3].iter().zip(want) {
                near(got, lerp8(-0.6, 0.9, b), "sh");
            }
        }
    }
}

#[test]
fn broken_version_1_sets_are_input_errors() {
    let dir = TempDir::new("sog-v1-bad");
    // A centroid width that is no band count's.
    let meta = hand_made_v1(&dir.0, 500);
    let msg = read_scene(&meta).unwrap_err().to_string();
    assert!(
        msg.contains("cent.webp") && msg.contains("500 pixels wide"),
        "{msg}"
    );
    // A label beyond the palette the centroid image holds (2 rows: 128 entries).
    let meta = hand_made_v1(&dir.0, 512);
    std::fs::write(
        dir.join("lab.webp"),
        webp(&[[128, 0, 0, 255], [0; 4], [0; 4], [0; 4]], 2, 2),
    )
    .unwrap();
    let msg = read_scene(&meta).unwrap_err().to_string();
    assert!(msg.contains("palette index 128"), "{msg}");
    // A range with the wrong number of channels.
    let text = std::fs::read_to_string(&meta).unwrap();
    let text = text.replace("\"mins\":[-2.0,-1.0,0.0,-5.0]", "\"mins\":[-2.0,-1.0,0.0]");
    assert!(text.contains("[-2.0,-1.0,0.0]"), "{text}");
    std::fs::write(&meta, text).unwrap();
    let msg = read_scene(&meta).unwrap_err().to_string();
    assert!(
        msg.contains("sh0.mins and .maxs have 3 and 4 entries"),
        "{msg}"
    );
    // An unknown version.
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    v["version"] = serde_json::json!(3);
    std::fs::write(&meta, v.to_string()).unwrap();
    let msg = read_scene(&meta).unwrap_err().to_string();
    assert!(msg.contains("SOG version 3"), "{msg}");
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

/// `a` permuted into the order of `b`: the writer stores splats in Morton order, so splat i
/// of the file is the scene's splat nearest to it (each matched once).
fn in_file_order(a: &Splats, b: &Splats) -> Splats {
    assert_eq!(a.len(), b.len());
    let mut used = vec![false; a.len()];
    let perm: Vec<usize> = b
        .means
        .iter()
        .map(|m| {
            let d = |p: &[f32; 3]| (0..3).map(|k| (p[k] - m[k]).powi(2)).sum::<f32>();
            let j = (0..a.len())
                .filter(|&j| !used[j])
                .min_by(|&x, &y| d(&a.means[x]).total_cmp(&d(&a.means[y])))
                .unwrap();
            used[j] = true;
            j
        })
        .collect();
    let k = a.coeffs_per_splat() * 3;
    Splats {
        means: perm.iter().map(|&j| a.means[j]).collect(),
        rotations: perm.iter().map(|&j| a.rotations[j]).collect(),
        log_scales: perm.iter().map(|&j| a.log_scales[j]).collect(),
        opacity_logits: perm.iter().map(|&j| a.opacity_logits[j]).collect(),
        sh_degree: a.sh_degree,
        sh: perm
            .iter()
            .flat_map(|&j| a.sh[j * k..(j + 1) * k].iter().copied())
            .collect(),
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
        // Up to 1024 splats the SH palette holds every splat's own coefficients.
        check_round_trip(&in_file_order(&a, &f.splats), &f.splats);
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
fn higher_sh_of_large_scenes_go_through_a_clustered_palette() {
    // 70,000 splats on an integer grid (each recoverable from its decoded position), SH 1
    // drawn around 300 prototypes: the palette (65,536 entries at most) must find them.
    let dir = TempDir::new("sog-big");
    let n = 70_000usize;
    let mut rng = Rng::new(5);
    let mut a = random_scene(&mut rng, n, 1);
    let grid = |i: usize| [(i % 50) as f32, (i / 50 % 50) as f32, (i / 2500) as f32];
    let protos: Vec<[f32; 9]> = (0..300)
        .map(|_| std::array::from_fn(|_| rng.range(-0.4, 0.4)))
        .collect();
    for i in 0..n {
        a.means[i] = grid(i);
        let p = &protos[i * 7 % 300];
        for (v, w) in a.sh[i * 12 + 3..i * 12 + 12].iter_mut().zip(p) {
            *v = w + rng.range(-0.002, 0.002);
        }
    }
    let path = dir.0.join("big.sog");
    write_scene(&path, &a, OutputFormat::Sog, &WriteOptions::default()).unwrap();
    let b = read_scene(&path).unwrap().splats;
    assert_eq!((b.len(), b.sh_degree), (n, 1));
    let mut seen = vec![false; n];
    let (mut worst, mut sum) = (0.0f32, 0.0f64);
    for (slot, m) in b.means.iter().enumerate() {
        let r = m.map(|v| v.round() as usize);
        let i = r[0] + 50 * r[1] + 2500 * r[2];
        assert!(i < n && !seen[i] && grid(i) == r.map(|v| v as f32), "{m:?}");
        seen[i] = true;
        for j in 3..12 {
            let d = (a.sh[i * 12 + j] - b.sh[slot * 12 + j]).abs();
            worst = worst.max(d);
            sum += f64::from(d);
        }
    }
    // Half a codebook step over the prototypes' span (0.8 / 255 / 2 ≈ 0.0016) plus the noise
    // (0.002) plus a little for centroids that merge near neighbours.
    let mean = sum / (n * 9) as f64;
    assert!(mean < 0.003, "mean SH error {mean}");
    assert!(worst < 0.02, "worst SH error {worst}");
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
    let b = read_scene(&sog).unwrap().splats;
    check_round_trip(&in_file_order(&a, &b), &b);
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
