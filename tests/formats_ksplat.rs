//! mkkellogg `.ksplat`: the splat-transform fixture decodes to the same splats as its `.splat`
//! twin; files of every compression level (0, 1, 2) and SH degree (0–3), with several
//! sections, spare records, full and partial buckets, written by the independent test-side
//! writer (`vksplat_tests::ksplat`), read back within each level's quantization; a level-0
//! file renders like the PLY of the same scene; `vksplat info` describes it; broken headers
//! are input errors naming the file.

use std::path::{Path, PathBuf};

use vksplat_core::reference;
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_io::{parse_scene, read_scene, Axes, Format, IoError, Splats};
use vksplat_tests::cli::{assert_exit, vksplat};
use vksplat_tests::ksplat::{encode, Section, SH_RANGE};
use vksplat_tests::{camera, random_scene, Rng};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/formats")
        .join(name)
}

fn sigmoid(x: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(x)).exp())
}

const SH_C0: f64 = 0.282_094_791_773_878_14;

#[test]
fn fixture_equals_its_splat_twin() {
    let k = read_scene(&data("splat-transform_minimal.ksplat")).unwrap();
    let s = read_scene(&data("splat-transform_minimal.splat")).unwrap();
    assert_eq!(k.format, Format::Ksplat { compression: 0 });
    assert_eq!(k.frame, Axes::Rdf);
    assert_eq!(k.header_bytes, 4096 + 1024);
    assert_eq!(k.splats.len(), 4);
    assert_eq!(k.splats.means, s.splats.means);
    assert_eq!(k.splats.log_scales, s.splats.log_scales);
    assert_eq!(k.splats.rotations, s.splats.rotations);
    assert_eq!(k.splats.opacity_logits, s.splats.opacity_logits);
    assert_eq!(k.splats.sh, s.splats.sh);
    // Known values: the 2×2 grid, scale 0.1, quaternion (0, 0, 0, 1).
    assert_eq!(k.splats.means[0], [-1.0, 0.0, -1.0]);
    assert!((k.splats.log_scales[3][1] - 0.1f32.ln()).abs() < 1e-7);
    assert_eq!(k.splats.rotations[2], [0.0, 0.0, 0.0, 1.0]);
}

/// A scene whose values lie in every level's ranges: |f_dc| ≤ 1.7 (8-bit colour), SH in the
/// 8-bit range.
fn scene(n: usize, degree: u32, seed: u64) -> Splats {
    let mut s = random_scene(&mut Rng::new(seed), n, degree);
    let k = s.coeffs_per_splat();
    for (j, v) in s.sh.iter_mut().enumerate() {
        *v = if j % (k * 3) < 3 {
            v.clamp(-1.7, 1.7)
        } else {
            v.clamp(SH_RANGE.0 + 0.01, SH_RANGE.1 - 0.01)
        };
    }
    s
}

/// Largest errors of `b` against `a` (same count and degree).
#[derive(Debug, Default)]
struct Errors {
    pos: f64,
    log_scale: f64,
    rot: f64,
    opacity: f64,
    dc: f64,
    sh: f64,
}

fn errors(a: &Splats, b: &Splats) -> Errors {
    assert_eq!(a.len(), b.len());
    let (ka, kb) = (a.coeffs_per_splat(), b.coeffs_per_splat());
    let mut e = Errors::default();
    for i in 0..a.len() {
        for c in 0..3 {
            e.pos = e.pos.max(f64::from((a.means[i][c] - b.means[i][c]).abs()));
            e.log_scale = e
                .log_scale
                .max(f64::from((a.log_scales[i][c] - b.log_scales[i][c]).abs()));
        }
        for c in 0..4 {
            e.rot = e
                .rot
                .max(f64::from((a.rotations[i][c] - b.rotations[i][c]).abs()));
        }
        e.opacity = e
            .opacity
            .max((sigmoid(a.opacity_logits[i]) - sigmoid(b.opacity_logits[i])).abs());
        for j in 0..kb * 3 {
            // Coefficients `a` lacks (a lower-degree section) must read as 0.
            let want = if j < ka * 3 {
                a.sh[i * ka * 3 + j]
            } else {
                0.0
            };
            let d = f64::from((want - b.sh[i * kb * 3 + j]).abs());
            if j < 3 {
                e.dc = e.dc.max(d);
            } else {
                e.sh = e.sh.max(d);
            }
        }
    }
    e
}

#[test]
fn every_level_and_degree_reads_back_within_its_quantization() {
    let dir = vksplat_tests::cli::TempDir::new("ksplat-levels");
    for level in 0..=2u8 {
        for degree in 0..=3u32 {
            // Two sections (the second one degree lower where possible) and an empty one
            // between them; spare records after each.
            let a = scene(700, degree, 10 + u64::from(degree));
            let b = scene(301, degree.saturating_sub(1), 20 + u64::from(degree));
            let empty = scene(0, 3, 0);
            let sections = [
                Section {
                    splats: &a,
                    spare: 5,
                    bucket_size: 64,
                    partial: vec![30, 1, 29],
                    default_range: false,
                },
                Section {
                    splats: &empty,
                    spare: 2,
                    bucket_size: 64,
                    partial: vec![],
                    default_range: false,
                },
                Section {
                    splats: &b,
                    spare: 0,
                    bucket_size: 256,
                    partial: vec![45],
                    default_range: true,
                },
            ];
            let path = dir.join(&format!("l{level}d{degree}.ksplat"));
            std::fs::write(&path, encode(&sections, level)).unwrap();
            let file = read_scene(&path).unwrap();
            let label = format!("level {level}, degree {degree}");
            assert_eq!(
                file.format,
                Format::Ksplat { compression: level },
                "{label}"
            );
            assert_eq!(file.splats.len(), 1001, "{label}");
            assert_eq!(file.splats.sh_degree, degree, "{label}");
            let got = &file.splats;
            let pick = |lo: usize, hi: usize| Splats {
                means: got.means[lo..hi].to_vec(),
                rotations: got.rotations[lo..hi].to_vec(),
                log_scales: got.log_scales[lo..hi].to_vec(),
                opacity_logits: got.opacity_logits[lo..hi].to_vec(),
                sh_degree: got.sh_degree,
                sh: got.sh[lo * got.coeffs_per_splat() * 3..hi * got.coeffs_per_splat() * 3]
                    .to_vec(),
            };
            let ea = errors(&a, &pick(0, 700));
            let eb = errors(&b, &pick(700, 1001));
            eprintln!("{label}: {ea:?} / {eb:?}");
            for e in [&ea, &eb] {
                // Colours and opacity: half an 8-bit step at every level.
                assert!(e.dc <= 0.5 / 255.0 / SH_C0 + 1e-6, "{label}: {e:?}");
                assert!(e.opacity <= 0.5 / 255.0 + 1e-6, "{label}: {e:?}");
                if level == 0 {
                    // f32 kept bit for bit; the scale passes through exp and ln.
                    assert_eq!(e.pos, 0.0, "{label}");
                    assert_eq!(e.rot, 0.0, "{label}");
                    assert_eq!(e.sh, 0.0, "{label}");
                    assert!(e.log_scale < 2e-6, "{label}: {e:?}");
                } else {
                    // f16: half a unit in the last place, relative 2^-11 (scales: in log).
                    assert!(e.log_scale <= 2f64.powi(-11) + 1e-6, "{label}: {e:?}");
                    assert!(e.rot <= 2f64.powi(-12) + 1e-7, "{label}: {e:?}");
                    // Bucketed positions: half a step of block / 2 / 32767 (blocks here
                    // are at most ~20 wide).
                    assert!(e.pos <= 20.0 / 2.0 / 32767.0 / 2.0 + 1e-5, "{label}: {e:?}");
                    let sh_step = if level == 1 {
                        1.5 * 2f64.powi(-11)
                    } else {
                        0.5 * f64::from(SH_RANGE.1 - SH_RANGE.0) / 255.0 + 1e-6
                    };
                    assert!(e.sh <= sh_step, "{label}: {e:?}");
                }
            }
        }
    }
}

#[test]
fn a_level_0_ksplat_renders_like_the_ply_of_the_same_scene() {
    let dir = vksplat_tests::cli::TempDir::new("ksplat-render");
    // In front of the camera only: splats at the near plane magnify every quantization.
    let mut original = scene(3000, 3, 5);
    for m in &mut original.means {
        m[2] = m[2].abs().max(0.5) + 1.0;
    }
    let path = dir.join("s.ksplat");
    let section = |level: u8| {
        encode(
            &[Section {
                splats: &original,
                spare: 0,
                bucket_size: 256,
                partial: vec![3000 % 256],
                default_range: false,
            }],
            level,
        )
    };
    let cam = camera(96, 72, 80.0, 80.0, 48.0, 36.0);
    let settings = RenderSettings {
        mode: RenderMode::Classic,
        background: [0.0; 3],
        ..Default::default()
    };
    // The PLY side: the same quantized colours and opacities (8-bit in every .ksplat).
    std::fs::write(&path, section(0)).unwrap();
    let level0 = read_scene(&path).unwrap().splats;
    let ply = dir.join("s.ply");
    vksplat_io::write_ply(&ply, &level0).unwrap();
    let from_ply = read_scene(&ply).unwrap().splats;
    let reference_img = reference::render(&from_ply, &cam, &settings).rgba;
    let diff = |s: &Splats| -> (f64, f32) {
        let img = reference::render(s, &cam, &settings).rgba;
        let mut sum = 0.0;
        let mut max = 0.0f32;
        for (a, b) in img.iter().zip(&reference_img) {
            sum += f64::from((a - b).abs());
            max = max.max((a - b).abs());
        }
        (sum / img.len() as f64, max)
    };
    assert_eq!(diff(&level0), (0.0, 0.0));
    // For scale: SPZ v3 of the same scene (a codec vksplat accepts). This random scene is
    // sensitive to positions (a shift of 1e-4 moves its images by ~1e-2 on average), so
    // levels 1 and 2 (positions within ~1e-4) are held to SPZ's difference, not to zero.
    let spz = dir.join("s.spz");
    let options = vksplat_io::WriteOptions::default();
    vksplat_io::write_scene(&spz, &level0, vksplat_io::OutputFormat::Spz, &options).unwrap();
    let (spz_mean, _) = diff(&read_scene(&spz).unwrap().splats);
    let mut worst = 0.0f64;
    for level in [1, 2] {
        std::fs::write(&path, section(level)).unwrap();
        let s = read_scene(&path).unwrap().splats;
        let (mean, max) = diff(&s);
        eprintln!("level {level} vs PLY: mean {mean:.2e}, max {max:.2e} (SPZ v3: {spz_mean:.2e})");
        assert!(mean <= 1.5 * spz_mean, "level {level}: {mean} {max}");
        worst = worst.max(mean);
    }
    // Control: the same splats with y and z negated (another frame) render differently.
    let mut flipped = level0.clone();
    for m in &mut flipped.means {
        m[1] = -m[1];
        m[2] = -m[2];
    }
    let (flipped_mean, _) = diff(&flipped);
    eprintln!("y and z negated: mean {flipped_mean:.2e}");
    assert!(flipped_mean > 5.0 * worst, "control not discriminating");
}

#[test]
fn info_describes_a_ksplat() {
    let path = data("splat-transform_minimal.ksplat");
    let out = vksplat(&["info", "--json", path.to_str().unwrap()]);
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "ksplat");
    assert_eq!(v["count"], 4);
    assert_eq!(v["frame"], "RDF");
    assert_eq!(v["header_bytes"], 5120);
    assert!(v["format_name"]
        .as_str()
        .unwrap()
        .contains("compression level 0"));
}

fn input_error(bytes: &[u8], name: &str) -> String {
    match parse_scene(bytes, Path::new(name)) {
        Err(IoError::Input { path, message }) => {
            assert_eq!(path, Path::new(name));
            message
        }
        Err(e) => panic!("{name}: not an input error: {e}"),
        Ok(s) => panic!("{name}: parsed {} splats", s.splats.len()),
    }
}

#[test]
fn broken_ksplat_files_are_input_errors() {
    let s = scene(100, 2, 3);
    let good = encode(
        &[Section {
            splats: &s,
            spare: 0,
            bucket_size: 32,
            partial: vec![4],
            default_range: false,
        }],
        1,
    );
    // Found by content without the extension, and by name.
    let found = parse_scene(&good, Path::new("scene.bin")).unwrap();
    assert_eq!(found.format, Format::Ksplat { compression: 1 });
    assert_eq!(found.splats.len(), 100);
    let set = |at: usize, v: &[u8]| {
        let mut b = good.clone();
        b[at..at + v.len()].copy_from_slice(v);
        b
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..2000].to_vec(), "main header alone has 4096"),
        (good[..good.len() - 1].to_vec(), "truncated"),
        (set(1, &[0]), "unsupported .ksplat version 0.0"),
        (set(0, &[1]), "unsupported .ksplat version 1.1"),
        (set(20, &[3, 0]), "compression level 3"),
        (set(4, &[0, 0, 1, 0]), "65536 section headers end at byte"),
        (set(4, &[0xff, 0xff, 0xff, 0xff]), "sections, more than"),
        (
            set(16, &[101, 0, 0, 0]),
            "declares 101 splats but its sections hold 100",
        ),
        (set(16, &[0xff, 0xff, 0xff, 0xff]), "more than the"),
        (set(4096 + 40, &[4, 0]), "SH degree 4"),
        (
            set(4096, &[200, 0, 0, 0]),
            "holds 200 splats but has room for 100",
        ),
        (set(4096 + 4, &[0xff, 0xff, 0xff, 0x7f]), "truncated"),
        (set(4096 + 20, &[8, 0]), "bucket centres of 8 bytes"),
        (set(4096 + 16, &(-1.0f32).to_le_bytes()), "block size"),
        (set(4096 + 16, &f32::NAN.to_le_bytes()), "block size"),
        (set(4096 + 32, &[2, 0, 0, 0]), "do not cover"),
        (set(4096 + 36, &[9, 0, 0, 0]), "(truncated?)"),
        (set(36, &f32::INFINITY.to_le_bytes()), "not finite"),
    ];
    for (i, (bytes, want)) in cases.iter().enumerate() {
        let m = input_error(bytes, "bad.ksplat");
        assert!(m.contains(want), "case {i}: {m}");
    }
}
