//! PIZ and DWAA files written by vksplat, decoded by OpenEXR itself (the Python `OpenEXR` 3.x
//! package, which wraps the C++/Core library).
//!
//! * PIZ is lossless: every channel must come back bit for bit what an uncompressed file of
//!   the same pixels holds (NaN payloads, infinities, −0 and subnormals included).
//! * DWAA keeps `A` (RLE) and `Z` (zlib) bit-exact. `R`, `G`, `B` are lossy, and must be
//!   (1) within the format's worst-case bound: the quantiser moves each DCT coefficient by
//!   less than 0.00045·q/q_min (level 45, JPEG tables), which sums over one 8×8 block to at
//!   most 0.040 (Y) and 0.035 (Cb, Cr) in DWA's perceptual domain; after the inverse Y'CbCr
//!   matrix at most 0.104 (B, the worst), and the perceptual → linear step multiplies that
//!   by at most 2.2·max(1, |v|): |error| ≤ 0.25·max(1, |v|); we assert 0.3·max(1, |v|) to
//!   leave room for the HALF roundings on the way;
//!   (2) as good as OpenEXR's own DWAA encoder at the same level on the same pixels: RMS
//!   error at most 1.15× and maximum error at most 1.5× OpenEXR's (plus one HALF step), and
//!   the file at most 5 % larger (images of 7 columns or more: narrower chunks are so small
//!   that either encoder may store them raw);
//!   (3) on smooth data in [0, 1]: maximum error ≤ 0.01 and RMS ≤ 0.002 (OpenEXR's encoder
//!   measures 0.004 and 0.0009 on the same images).
//!   Non-finite colour (NaN, ±Inf) decodes as finite values, as in OpenEXR (DWA maps them
//!   to 0 before the DCT), unless its chunk is too small to shrink and is stored raw.
//!
//! Sizes cover width 1, odd widths, 31/32/33 lines (DWAA and PIZ chunks hold 32) and a
//! 1920×32 strip; data: constant, random bits, smooth ramps and special values. The output
//! for the same input must be byte-identical.
//!
//! The Python package is required: without it these tests fail under `VKSPLAT_REQUIRE_GPU=1`
//! (as CI sets it) and say so otherwise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::io::Write;
use vksplat_io::image::{write_exr_with, ExrColor, ExrCompression, ExrOptions};
use vksplat_tests::cli::TempDir;
use vksplat_tests::Rng;

/// Decodes EXR files with OpenEXR and dumps every channel as float32; re-encodes files with
/// OpenEXR's own DWAA at level 45 when asked. Jobs on stdin (JSON), results on stdout.
const PYTHON: &str = r#"
import json, os, sys
import numpy as np
import OpenEXR

out = {}
for job in json.load(sys.stdin):
    if job["op"] == "openexr_dwaa":
        f = OpenEXR.File(job["src"], separate_channels=True)
        h = dict(f.header())
        h["compression"] = OpenEXR.DWAA_COMPRESSION
        h["dwaCompressionLevel"] = 45.0
        OpenEXR.File(h, f.channels()).write(job["dst"])
        continue
    p = job["path"]
    f = OpenEXR.File(p, separate_channels=True)
    info = {"compression": str(f.header()["compression"]), "size": os.path.getsize(p), "channels": {}}
    for name, ch in f.channels().items():
        a = np.ascontiguousarray(ch.pixels)
        info["channels"][name] = [str(a.dtype), list(a.shape)]
        a.astype("<f4").tofile(p + "." + name + ".f32")
    out[p] = info
print(json.dumps(out))
"#;

/// Whether `python3` can import OpenEXR and numpy; under `VKSPLAT_REQUIRE_GPU=1` it must.
fn python_openexr() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import OpenEXR, numpy"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let required = std::env::var("VKSPLAT_REQUIRE_GPU").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "python3 cannot import OpenEXR and numpy (pip install OpenEXR numpy; tools/setup.sh \
         installs them) and VKSPLAT_REQUIRE_GPU=1"
    );
    eprintln!("NOT TESTED: python3 with the OpenEXR package is not installed");
    false
}

/// What OpenEXR read from one file.
struct Decoded {
    compression: String,
    size: u64,
    /// Channel name → (numpy dtype, samples as f32).
    channels: HashMap<String, (String, Vec<f32>)>,
}

/// Runs the Python jobs; returns the decoded files by path.
fn run_python(jobs: &[serde_json::Value]) -> HashMap<PathBuf, Decoded> {
    let mut child = Command::new("python3")
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(jobs).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "OpenEXR failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut files = HashMap::new();
    for (path, info) in result.as_object().unwrap() {
        let mut channels = HashMap::new();
        for (name, spec) in info["channels"].as_object().unwrap() {
            let bytes = std::fs::read(format!("{path}.{name}.f32")).unwrap();
            let samples = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            channels.insert(name.clone(), (spec[0].as_str().unwrap().into(), samples));
        }
        files.insert(
            PathBuf::from(path),
            Decoded {
                compression: info["compression"].as_str().unwrap().into(),
                size: info["size"].as_u64().unwrap(),
                channels,
            },
        );
    }
    files
}

fn decode_job(path: &Path) -> serde_json::Value {
    serde_json::json!({"op": "decode", "path": path})
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Pattern {
    Constant,
    Noise,
    Smooth,
    Special,
}

/// RGBA and depth of a `w`×`h` test image.
fn image(pattern: Pattern, w: usize, h: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let mut rgba = Vec::with_capacity(w * h * 4);
    let mut depth = Vec::with_capacity(w * h);
    // NaN, ±Inf, −0, a HALF subnormal, ordinary values.
    let special = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        3e-7,
        0.5,
        1.0,
        0.0,
    ];
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 / 37.0, y as f32 / 23.0);
            let px: [f32; 5] = match pattern {
                Pattern::Constant => [0.25, 0.5, 0.75, 1.0, 3.5],
                Pattern::Noise => std::array::from_fn(|_| f32::from_bits(rng.next_u32())),
                Pattern::Smooth => [
                    0.5 + 0.4 * fx.sin() * fy.cos(),
                    0.3 + 0.2 * (fx * 0.7 + fy).sin(),
                    0.6 + 0.3 * (fy * 1.3).cos(),
                    (0.5 + 0.5 * (fx * 0.3).sin()).min(1.0),
                    2.0 + fx * 0.01 + fy * 0.02,
                ],
                Pattern::Special => std::array::from_fn(|_| special[(rng.next_u32() % 8) as usize]),
            };
            rgba.extend_from_slice(&px[..4]);
            depth.push(px[4]);
        }
    }
    (rgba, depth)
}

fn write(
    path: &Path,
    w: usize,
    h: usize,
    compression: ExrCompression,
    half: bool,
    pixels: &(Vec<f32>, Vec<f32>),
) {
    let options = ExrOptions {
        compression,
        half,
        color: ExrColor::Raw,
        ..ExrOptions::default()
    };
    write_exr_with(path, w as u32, h as u32, &pixels.0, &pixels.1, &options)
        .unwrap_or_else(|e| panic!("{e}"));
}

const SIZES: [(usize, usize); 7] = [
    (1, 1),
    (1, 40),
    (7, 31),
    (33, 32),
    (33, 33),
    (64, 65),
    (1920, 32),
];

/// One image in every size, type and pattern: (name, width, height, half, pattern).
fn cases() -> Vec<(String, usize, usize, bool, Pattern)> {
    let mut out = Vec::new();
    for (w, h) in SIZES {
        for half in [true, false] {
            for pattern in [
                Pattern::Constant,
                Pattern::Noise,
                Pattern::Smooth,
                Pattern::Special,
            ] {
                let name = format!(
                    "{w}x{h}-{}-{pattern:?}",
                    if half { "half" } else { "float" }
                );
                out.push((name, w, h, half, pattern));
            }
        }
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

#[test]
fn piz_decodes_bit_exactly_in_openexr() {
    if !python_openexr() {
        return;
    }
    let dir = TempDir::new("exr-piz");
    let mut jobs = Vec::new();
    let mut pairs = Vec::new();
    for (i, (name, w, h, half, pattern)) in cases().into_iter().enumerate() {
        let pixels = image(pattern, w, h, i as u64);
        let reference = dir.join(&format!("{name}-none.exr"));
        let piz = dir.join(&format!("{name}-piz.exr"));
        write(&reference, w, h, ExrCompression::None, half, &pixels);
        write(&piz, w, h, ExrCompression::Piz, half, &pixels);
        jobs.push(decode_job(&reference));
        jobs.push(decode_job(&piz));
        pairs.push((name, reference, piz, half));
    }
    let decoded = run_python(&jobs);
    for (name, reference, piz, half) in pairs {
        let (r, p) = (&decoded[&reference], &decoded[&piz]);
        assert_eq!(p.compression, "Compression.PIZ_COMPRESSION", "{name}");
        assert_eq!(p.channels.len(), 5, "{name}");
        for (ch, (dtype, values)) in &r.channels {
            let want = if half && ch != "Z" {
                "float16"
            } else {
                "float32"
            };
            assert_eq!(dtype, want, "{name} {ch}");
            assert_eq!(p.channels[ch].0, *dtype, "{name} {ch}");
            assert!(
                bits(&p.channels[ch].1) == bits(values),
                "{name}: channel {ch} differs"
            );
        }
    }
}

#[test]
fn piz_compresses_smooth_images() {
    if !python_openexr() {
        return;
    }
    let dir = TempDir::new("exr-piz-size");
    let pixels = image(Pattern::Smooth, 1920, 64, 1);
    let reference = dir.join("none.exr");
    let piz = dir.join("piz.exr");
    write(&reference, 1920, 64, ExrCompression::None, true, &pixels);
    write(&piz, 1920, 64, ExrCompression::Piz, true, &pixels);
    let decoded = run_python(&[decode_job(&reference), decode_job(&piz)]);
    // The float Z ramp barely compresses; the HALF colour does.
    assert!(
        decoded[&piz].size * 2 < decoded[&reference].size,
        "PIZ {} bytes, uncompressed {}",
        decoded[&piz].size,
        decoded[&reference].size
    );
}

/// Max and RMS of |a − b| over the samples where `b` (the source) is finite.
fn errors(a: &[f32], b: &[f32]) -> (f64, f64, usize) {
    let (mut max, mut sum, mut n) = (0f64, 0f64, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        if y.is_finite() {
            let d = (f64::from(x) - f64::from(y)).abs();
            max = max.max(d);
            sum += d * d;
            n += 1;
        }
    }
    (max, (sum / n.max(1) as f64).sqrt(), n)
}

#[test]
fn dwaa_decodes_in_openexr_within_tolerance() {
    if !python_openexr() {
        return;
    }
    let dir = TempDir::new("exr-dwaa");
    let mut jobs = Vec::new();
    let mut cases_out = Vec::new();
    for (i, (name, w, h, half, pattern)) in cases().into_iter().enumerate() {
        // Random bit patterns are not images; DWA's colour bounds do not apply to them.
        if pattern == Pattern::Noise {
            continue;
        }
        let pixels = image(pattern, w, h, i as u64);
        let reference = dir.join(&format!("{name}-none.exr"));
        let ours = dir.join(&format!("{name}-dwaa.exr"));
        let theirs = dir.join(&format!("{name}-openexr-dwaa.exr"));
        write(&reference, w, h, ExrCompression::None, half, &pixels);
        write(&ours, w, h, ExrCompression::Dwaa, half, &pixels);
        jobs.push(serde_json::json!({"op": "openexr_dwaa", "src": reference, "dst": theirs}));
        jobs.push(decode_job(&reference));
        jobs.push(decode_job(&ours));
        jobs.push(decode_job(&theirs));
        cases_out.push((name, w, pattern, reference, ours, theirs));
    }
    let decoded = run_python(&jobs);
    for (name, w, pattern, reference, ours, theirs) in cases_out {
        let (r, o, t) = (&decoded[&reference], &decoded[&ours], &decoded[&theirs]);
        assert_eq!(o.compression, "Compression.DWAA_COMPRESSION", "{name}");
        assert!(
            o.size as f64 <= t.size as f64 * 1.05 + 64.0,
            "{name}: {} bytes, OpenEXR's DWAA {}",
            o.size,
            t.size
        );
        for ch in ["A", "Z"] {
            assert!(
                bits(&o.channels[ch].1) == bits(&r.channels[ch].1),
                "{name}: {ch} not lossless"
            );
        }
        for ch in ["R", "G", "B"] {
            let (src, got, want) = (&r.channels[ch].1, &o.channels[ch].1, &t.channels[ch].1);
            for (&g, &s) in got.iter().zip(src) {
                // A chunk too small to shrink is stored raw and keeps its NaN and ±Inf.
                assert!(
                    g.is_finite() || g.to_bits() == s.to_bits(),
                    "{name} {ch}: {g} for {s}"
                );
                if s.is_finite() {
                    let bound = 0.3 * f64::from(s.abs()).max(1.0);
                    assert!(
                        (f64::from(g) - f64::from(s)).abs() <= bound,
                        "{name} {ch}: {g} for {s}"
                    );
                }
            }
            let (max, rms, n) = errors(got, src);
            if n == 0 {
                continue; // every source sample of the channel is NaN or infinite
            }
            if pattern == Pattern::Smooth {
                assert!(
                    max <= 0.01 && rms <= 0.002,
                    "{name} {ch}: max {max:.3e}, RMS {rms:.3e}"
                );
            }
            // Chunks under 7 columns are a few hundred bytes: either encoder may find its
            // output no smaller and store them raw (exactly), so there is nothing to compare.
            if w < 7 {
                continue;
            }
            let (omax, orms, _) = errors(want, src);
            // One HALF step at the largest magnitude, for images where both are exact-ish.
            let step = src
                .iter()
                .filter(|v| v.is_finite())
                .fold(0f64, |m, v| m.max(f64::from(v.abs())))
                / 1024.0;
            assert!(
                rms <= 1.15 * orms + 1e-6,
                "{name} {ch}: RMS {rms:.3e}, OpenEXR's {orms:.3e}"
            );
            assert!(
                max <= 1.5 * omax + step,
                "{name} {ch}: max {max:.3e}, OpenEXR's {omax:.3e}"
            );
        }
    }
}

#[test]
fn codec_output_is_deterministic() {
    let dir = TempDir::new("exr-determinism");
    let pixels = image(Pattern::Smooth, 333, 70, 3);
    for compression in [ExrCompression::Piz, ExrCompression::Dwaa] {
        for half in [true, false] {
            let a = dir.join("a.exr");
            let b = dir.join("b.exr");
            write(&a, 333, 70, compression, half, &pixels);
            write(&b, 333, 70, compression, half, &pixels);
            let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
            assert!(a == b, "{compression:?} half={half}: two writes differ");
        }
    }
}
