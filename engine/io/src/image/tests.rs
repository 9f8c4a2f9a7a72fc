//! PNG/EXR tests: exact bytes and values back, atomicity, rejected inputs.

use super::*;
use crate::test_util::{Rng, TempDir};

fn decode_png(path: &Path) -> (png::OutputInfo, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info, buf)
}

#[test]
fn png_values_round_clamp_and_drop_alpha() {
    let dir = TempDir::new("png");
    let path = dir.path().join("out.png");
    #[rustfmt::skip]
    let rgba = [
        0.0, 1.0, 0.5, 0.25,            1.2, -0.3, f32::NAN, 1.0,         0.2, 0.002, 0.998, 0.0,
        f32::INFINITY, f32::NEG_INFINITY, 0.501_960_8, 0.7,    1.0 / 255.0, 0.5 / 255.0, 0.49 / 255.0, 1.0,   0.9, 0.8, 0.7, 0.6,
    ];
    write_png(&path, 3, 2, &rgba).unwrap();
    let (info, bytes) = decode_png(&path);
    assert_eq!((info.width, info.height), (3, 2));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    #[rustfmt::skip]
    let expected = [
        0, 255, 128,    255, 0, 0,     51, 1, 254,
        255, 0, 128,    1, 1, 0,       230, 204, 179,
    ];
    assert_eq!(bytes, expected);
    assert!(!dir.path().join(".out.png.tmp").exists());
}

#[test]
fn png_overwrites_existing_file() {
    let dir = TempDir::new("png_overwrite");
    let path = dir.path().join("o.png");
    std::fs::write(&path, b"old contents").unwrap();
    write_png(&path, 1, 1, &[1.0, 0.0, 0.0, 1.0]).unwrap();
    assert_eq!(decode_png(&path).1, [255, 0, 0]);
}

fn test_image(w: u32, h: u32) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(99);
    let n = (w * h) as usize;
    let rgba = (0..n * 4).map(|_| rng.range(-1.0, 2.0)).collect();
    let depth = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                f32::INFINITY
            } else {
                rng.range(0.0, 100.0)
            }
        })
        .collect();
    (rgba, depth)
}

#[test]
fn exr_round_trip() {
    let dir = TempDir::new("exr");
    let path = dir.path().join("frame.exr");
    let (w, h) = (5u32, 3u32);
    let (rgba, depth) = test_image(w, h);
    let attrs = [
        ("vksplat:version", "0.1.0"),
        ("device", "llvmpipe (LLVM 15)"),
        ("mode", ""),
    ];
    write_exr(&path, w, h, &rgba, &depth, &attrs).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], &[0x76, 0x2f, 0x31, 0x01]);
    assert_eq!(&bytes[4..8], &[2, 0, 0, 0]);

    let img = read_exr(&path).unwrap();
    assert_eq!((img.width, img.height), (w, h));
    let names: Vec<&str> = img.channels.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["A", "B", "G", "R", "Z"]);
    for (c, name) in ["R", "G", "B", "A"].iter().enumerate() {
        let got = img.channel(name).unwrap();
        let want: Vec<f32> = rgba.chunks_exact(4).map(|p| p[c]).collect();
        assert_eq!(got, &want[..], "channel {name}");
    }
    assert_eq!(img.channel("Z").unwrap(), &depth[..]);
    assert_eq!(img.channel("Y"), None);
    let got: Vec<(&str, &str)> = img
        .attributes
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got[0], ("vksplat_color", "raw (display-encoded sRGB)"));
    assert_eq!(got[1..], attrs);
    assert_eq!(img.attribute("device"), Some("llvmpipe (LLVM 15)"));
    assert_eq!(img.compression, ExrCompression::None);
    assert!(img.half_channels.is_empty());
    assert_eq!(
        img.value("chromaticities"),
        Some(&ExrValue::Chromaticities(REC709_CHROMATICITIES))
    );

    // Exact size: header + offsets + lines of (8 + 5 channels * w * 4).
    let header_end = bytes.len() - h as usize * (8 + 8 + 5 * 4 * w as usize);
    assert_eq!(bytes[header_end - 1], 0, "header ends with a NUL byte");
    let first = u64::from_le_bytes(bytes[header_end..header_end + 8].try_into().unwrap());
    assert_eq!(first as usize, header_end + 8 * h as usize);
}

#[test]
fn exr_header_layout() {
    let dir = TempDir::new("exr_layout");
    let path = dir.path().join("one.exr");
    write_exr(&path, 2, 1, &[0.0; 8], &[0.0; 2], &[]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // The first attribute is the sorted channel list of five FLOAT channels.
    let mut expected = b"channels\0chlist\0".to_vec();
    expected.extend(&(5 * 18 + 1i32).to_le_bytes());
    for name in ["A", "B", "G", "R", "Z"] {
        expected.extend(name.as_bytes());
        expected.extend([0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    }
    expected.push(0);
    assert_eq!(&bytes[8..8 + expected.len()], &expected[..]);
    let window: Vec<u8> = [0i32, 0, 1, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut dw = b"dataWindow\0box2i\0\x10\0\0\0".to_vec();
    dw.extend(&window);
    assert!(bytes.windows(dw.len()).any(|x| x == &dw[..]));
    let comp = b"compression\0compression\0\x01\0\0\0\0";
    assert!(bytes.windows(comp.len()).any(|x| x == comp));
}

#[test]
fn exr_rejects_bad_arguments() {
    let dir = TempDir::new("exr_args");
    let path = dir.path().join("x.exr");
    let (rgba, depth) = test_image(2, 2);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("", "v")], "1..=31"),
        (vec![("an_attribute_name_longer_than_31b", "v")], "1..=31"),
        (vec![("channels", "v")], "written by vksplat"),
        (vec![("worldToCamera", "v")], "written by vksplat"),
        (vec![("capDate", "v")], "written by vksplat"),
        (vec![("a", "1"), ("a", "2")], "twice"),
        (vec![("a\0b", "1")], "NUL"),
    ];
    for (attrs, needle) in cases {
        let e = write_exr(&path, 2, 2, &rgba, &depth, &attrs).unwrap_err();
        assert!(matches!(e, IoError::Output { .. }));
        assert!(
            e.to_string().contains(needle) && e.to_string().contains("x.exr"),
            "{e}"
        );
    }
    assert!(write_exr(&path, 2, 2, &rgba[1..], &depth, &[]).is_err());
    assert!(write_exr(&path, 2, 2, &rgba, &depth[1..], &[]).is_err());
    assert!(write_exr(&path, 0, 2, &[], &[], &[]).is_err());
    assert!(write_png(&path, 2, 3, &rgba).is_err());
    assert!(!path.exists());
}

#[test]
fn writes_into_missing_directory_are_output_errors() {
    let dir = TempDir::new("missing_dir");
    let target = dir.path().join("nope").join("img");
    let png = target.with_extension("png");
    let exr = target.with_extension("exr");
    for e in [
        write_png(&png, 1, 1, &[0.0; 4]).unwrap_err(),
        write_exr(&exr, 1, 1, &[0.0; 4], &[0.0], &[]).unwrap_err(),
    ] {
        assert!(matches!(e, IoError::Output { .. }), "{e:?}");
        assert!(e.to_string().contains("nope/img."), "{e}");
        assert!(e.to_string().contains("cannot write"), "{e}");
    }
    // A directory in place of the file is an output error too.
    let e = write_png(dir.path(), 1, 1, &[0.0; 4]).unwrap_err();
    assert!(matches!(e, IoError::Output { .. }), "{e:?}");
}

fn exr_bytes() -> Vec<u8> {
    let dir = TempDir::new("exr_bytes");
    let path = dir.path().join("a.exr");
    let (rgba, depth) = test_image(3, 2);
    write_exr(&path, 3, 2, &rgba, &depth, &[("k", "v")]).unwrap();
    std::fs::read(&path).unwrap()
}

fn read_err(bytes: &[u8]) -> String {
    let dir = TempDir::new("exr_read_err");
    let path = dir.path().join("bad.exr");
    std::fs::write(&path, bytes).unwrap();
    let e = read_exr(&path).unwrap_err();
    assert!(matches!(e, IoError::Input { .. }));
    let s = e.to_string();
    assert!(s.contains("bad.exr"), "{s}");
    s
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let i = bytes.windows(from.len()).position(|w| w == from).unwrap();
    let mut out = bytes.to_vec();
    out[i..i + to.len()].copy_from_slice(to);
    out
}

#[test]
fn exr_reader_rejects_what_it_cannot_read() {
    let good = exr_bytes();
    assert!(read_err(b"\x89PNG").contains("not an OpenEXR"));
    assert!(read_err(&good[..good.len() - 1]).contains("truncated"));
    assert!(read_err(&good[..40]).contains("truncated") || read_err(&good[..40]).contains("NUL"));
    let mut tiled = good.clone();
    tiled[5] = 0x02; // version flags 0x200: tiled
    assert!(read_err(&tiled).contains("single-part scanline"));
    for (code, name) in [
        (1u8, "RLE (1)"),
        (4, "PIZ (4)"),
        (8, "DWAA (8)"),
        (42, "unknown (42)"),
    ] {
        let other = replace(
            &good,
            b"compression\0compression\0\x01\0\0\0\0",
            &[b"compression\0compression\0\x01\0\0\0".as_slice(), &[code]].concat(),
        );
        let e = read_err(&other);
        assert!(
            e.contains(&format!("compression {name} is not read")),
            "{e}"
        );
    }
    let uint = replace(&good, b"A\0\x02\0\0\0", b"A\0\x00\0\0\0");
    assert!(read_err(&uint).contains("UINT"));
    // A data window far larger than the file must not be allocated.
    let huge: Vec<u8> = [0i32, 0, 0x7fff_fff0, 0x7fff_fff0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let small: Vec<u8> = [0i32, 0, 2, 1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut from = b"dataWindow\0box2i\0\x10\0\0\0".to_vec();
    from.extend(&small);
    let mut to = b"dataWindow\0box2i\0\x10\0\0\0".to_vec();
    to.extend(&huge);
    assert!(read_err(&replace(&good, &from, &to)).contains("needs more data"));
    // A corrupt offset table entry.
    let n = good.len();
    let line = 8 + 5 * 3 * 4;
    let table = n - 2 * line - 16;
    let mut bad_offset = good.clone();
    bad_offset[table..table + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(read_err(&bad_offset).contains("truncated"));
}

// ---------------------------------------------------------------------------
// Compression, HALF, colour, camera metadata

fn write_with(path: &Path, w: u32, h: u32, rgba: &[f32], depth: &[f32], options: &ExrOptions) {
    write_exr_with(path, w, h, rgba, depth, options).unwrap();
}

/// A smooth image (compressible) with a random stripe (not), so that both stored-raw and
/// compressed chunks occur.
fn mixed_image(w: u32, h: u32) -> (Vec<f32>, Vec<f32>) {
    let (noise, noise_depth) = test_image(w, h);
    let mut rgba = Vec::new();
    let mut depth = Vec::new();
    for y in 0..h as usize {
        for x in 0..w as usize {
            let i = y * w as usize + x;
            if (20..24).contains(&y) {
                rgba.extend_from_slice(&noise[i * 4..i * 4 + 4]);
                depth.push(noise_depth[i]);
            } else {
                let v = x as f32 / w as f32;
                rgba.extend_from_slice(&[v, 1.0 - v, 0.25, (y % 3) as f32 / 2.0]);
                depth.push(if x % 5 == 0 { 0.0 } else { 3.5 + y as f32 });
            }
        }
    }
    (rgba, depth)
}

#[test]
fn lossless_compressions_round_trip_exactly() {
    let dir = TempDir::new("exr_lossless");
    let (w, h) = (37u32, 41u32); // odd sizes: a short last chunk for ZIP (41 = 2·16 + 9)
    let (rgba, depth) = mixed_image(w, h);
    let mut sizes = Vec::new();
    for compression in [
        ExrCompression::None,
        ExrCompression::Zip,
        ExrCompression::Zips,
    ] {
        for half in [false, true] {
            let path = dir
                .path()
                .join(format!("{}_{half}.exr", compression.name()));
            let options = ExrOptions {
                compression,
                half,
                ..ExrOptions::default()
            };
            write_with(&path, w, h, &rgba, &depth, &options);
            let img = read_exr(&path).unwrap();
            assert_eq!(img.compression, compression);
            assert_eq!((img.width, img.height), (w, h));
            let want_half: Vec<&str> = if half {
                vec!["A", "B", "G", "R"]
            } else {
                vec![]
            };
            assert_eq!(img.half_channels, want_half);
            for (c, name) in ["R", "G", "B", "A"].iter().enumerate() {
                let want: Vec<u32> = rgba
                    .chunks_exact(4)
                    .map(|p| {
                        if half {
                            crate::half::half_to_f32(crate::half::f32_to_half(p[c])).to_bits()
                        } else {
                            p[c].to_bits()
                        }
                    })
                    .collect();
                let got: Vec<u32> = img
                    .channel(name)
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                assert_eq!(
                    got,
                    want,
                    "{} half={half} channel {name}",
                    compression.name()
                );
            }
            let z: Vec<u32> = img
                .channel("Z")
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let want_z: Vec<u32> = depth.iter().map(|v| v.to_bits()).collect();
            assert_eq!(z, want_z);
            sizes.push((compression, half, std::fs::metadata(&path).unwrap().len()));
        }
    }
    // Compression and HALF both shrink the file (the smooth part dominates).
    let size = |c, half| sizes.iter().find(|s| s.0 == c && s.1 == half).unwrap().2;
    assert!(
        size(ExrCompression::Zip, false) < size(ExrCompression::None, false) / 2,
        "{sizes:?}"
    );
    assert!(
        size(ExrCompression::Zips, false) < size(ExrCompression::None, false),
        "{sizes:?}"
    );
    assert!(
        size(ExrCompression::None, true) < size(ExrCompression::None, false),
        "{sizes:?}"
    );
    assert!(
        size(ExrCompression::Zip, true) < size(ExrCompression::Zip, false),
        "{sizes:?}"
    );
}

#[test]
fn zip_chunks_have_the_openexr_layout() {
    let dir = TempDir::new("exr_zip_layout");
    let path = dir.path().join("z.exr");
    let (w, h) = (8u32, 20u32);
    let rgba: Vec<f32> = (0..w * h * 4).map(|i| (i % 7) as f32).collect();
    let depth = vec![2.0; (w * h) as usize];
    write_with(&path, w, h, &rgba, &depth, &ExrOptions::default());
    let bytes = std::fs::read(&path).unwrap();
    let comp = b"compression\0compression\0\x01\0\0\0\x03";
    assert!(bytes.windows(comp.len()).any(|x| x == comp));
    // Two chunks (16 + 4 lines): two offsets right after the header.
    let header_end = bytes.windows(2).position(|x| x == [0, 0]).unwrap();
    let _ = header_end; // the header ends with the user attributes; find the table instead:
    let img = read_exr(&path).unwrap();
    assert_eq!(img.compression, ExrCompression::Zip);
    let table = find_offset_table(&bytes, 2);
    let first = table[0] as usize;
    let y = i32::from_le_bytes(bytes[first..first + 4].try_into().unwrap());
    let size = i32::from_le_bytes(bytes[first + 4..first + 8].try_into().unwrap()) as usize;
    assert_eq!(y, 0);
    assert_eq!(table[1] as usize, first + 8 + size);
    // The payload is a zlib stream of the predicted, byte-split raw chunk.
    let mut raw = Vec::new();
    let mut d = flate2::read::ZlibDecoder::new(&bytes[first + 8..first + 8 + size]);
    std::io::Read::read_to_end(&mut d, &mut raw).unwrap();
    let line = 8 * (4 * 4 + 4);
    assert_eq!(raw.len(), 16 * line);
    let mut unpredicted = vec![0; raw.len()];
    exr::zip_unpredict(&mut raw, &mut unpredicted);
    // Line 0, channel A: alpha of pixels 0..8 = (i*4+3) % 7.
    let a0 = f32::from_le_bytes(unpredicted[0..4].try_into().unwrap());
    assert_eq!(a0, 3.0);
    let second = table[1] as usize;
    assert_eq!(
        i32::from_le_bytes(bytes[second..second + 4].try_into().unwrap()),
        16
    );
    assert_eq!(
        second + 8 + i32::from_le_bytes(bytes[second + 4..second + 8].try_into().unwrap()) as usize,
        bytes.len()
    );
}

/// The offset table: the `n` u64 values right before the first chunk (found as the smallest
/// position whose next `n` u64s are increasing offsets ending in the file).
fn find_offset_table(bytes: &[u8], n: usize) -> Vec<u64> {
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
    for start in 8..bytes.len() - 8 * n {
        let table: Vec<u64> = (0..n).map(|k| u64_at(start + 8 * k)).collect();
        if table[0] == (start + 8 * n) as u64 && table.windows(2).all(|p| p[0] < p[1]) {
            return table;
        }
    }
    panic!("no offset table");
}

#[test]
fn zip_predictor_round_trips_and_matches_the_definition() {
    let raw: Vec<u8> = (0..257u32).map(|i| (i * 37 % 256) as u8).collect();
    let mut predicted = Vec::new();
    exr::zip_predict(&raw, &mut predicted);
    // Definition: t = even bytes then odd bytes; out[0] = t[0], out[i] = t[i] - t[i-1] + 128.
    let t: Vec<u8> = raw
        .iter()
        .step_by(2)
        .chain(raw.iter().skip(1).step_by(2))
        .copied()
        .collect();
    assert_eq!(predicted[0], t[0]);
    for i in 1..t.len() {
        assert_eq!(predicted[i], t[i].wrapping_sub(t[i - 1]).wrapping_add(128));
    }
    let mut back = vec![0; raw.len()];
    exr::zip_unpredict(&mut predicted, &mut back);
    assert_eq!(back, raw);
    for n in [0usize, 1, 2, 3] {
        let raw: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(91)).collect();
        let mut p = Vec::new();
        exr::zip_predict(&raw, &mut p);
        let mut back = vec![0; n];
        exr::zip_unpredict(&mut p, &mut back);
        assert_eq!(back, raw);
    }
}

#[test]
fn incompressible_chunks_are_stored_raw() {
    let dir = TempDir::new("exr_raw_chunks");
    let path = dir.path().join("noise.exr");
    let (w, h) = (64u32, 3u32);
    let (rgba, depth) = test_image(w, h);
    let options = ExrOptions {
        compression: ExrCompression::Zips,
        ..ExrOptions::default()
    };
    write_with(&path, w, h, &rgba, &depth, &options);
    let bytes = std::fs::read(&path).unwrap();
    let table = find_offset_table(&bytes, 3);
    for (i, &o) in table.iter().enumerate() {
        let o = o as usize;
        let size = i32::from_le_bytes(bytes[o + 4..o + 8].try_into().unwrap());
        assert_eq!(size, 64 * 5 * 4, "chunk {i} of random floats is stored raw");
    }
    let img = read_exr(&path).unwrap();
    assert_eq!(img.channel("Z").unwrap(), &depth[..]);
}

#[test]
fn parallel_encoding_is_deterministic() {
    let (w, h) = (33u32, 70u32);
    let (rgba, depth) = mixed_image(w, h);
    let frame = exr::FrameData {
        rgba: &rgba,
        depth: &depth,
        width: w as usize,
        height: h as usize,
        half: true,
        color: ExrColor::Linear {
            background: [0.2, 0.3, 0.4],
        },
    };
    for c in [
        ExrCompression::Zip,
        ExrCompression::Zips,
        ExrCompression::None,
        ExrCompression::Piz,
    ] {
        let n = (h as usize).div_ceil(c.lines_per_chunk());
        let one = exr::encode_parallel(&frame, c, 0..n, 1);
        for threads in [2, 3, 16] {
            assert_eq!(
                exr::encode_parallel(&frame, c, 0..n, threads),
                one,
                "{c:?} {threads}"
            );
        }
        assert_eq!(exr::encode_parallel(&frame, c, 1..n, 2), one[1..], "{c:?}");
    }
}

#[test]
fn srgb_transfer_values() {
    assert_eq!(srgb_to_linear(0.0), 0.0);
    assert_eq!(srgb_to_linear(1.0), 1.0);
    assert_eq!(srgb_to_linear(0.04045), 0.04045 / 12.92);
    assert!((srgb_to_linear(0.5) - 0.214_041_14).abs() < 1e-6);
    assert_eq!(srgb_to_linear(-0.5), -srgb_to_linear(0.5));
    assert!((srgb_to_linear(2.0) - ((2.055f64 / 1.055).powf(2.4)) as f32).abs() < 1e-5);
    assert!(srgb_to_linear(f32::NAN).is_nan());
    // Continuous at the threshold (the two pieces meet within 1e-7).
    assert!((srgb_to_linear(0.040_451) - srgb_to_linear(0.040_449)).abs() < 1e-6);
}

#[test]
fn linear_colour_follows_the_documented_formula() {
    let dir = TempDir::new("exr_linear");
    let bg = [0.2f32, 0.5, 0.9];
    // Opaque, empty, half-covered and 1/255-covered pixels, plus A = 0 with C ≠ b.
    #[rustfmt::skip]
    let rgba = [
        0.8, 0.3, 0.1, 1.0,
        bg[0], bg[1], bg[2], 0.0,
        0.5 * 0.7 + 0.5 * bg[0], 0.5 * 0.1 + 0.5 * bg[1], 0.5 * 0.9 + 0.5 * bg[2], 0.5,
        0.6 / 255.0 + (1.0 - 1.0 / 255.0) * bg[0], bg[1], bg[2], 1.0 / 255.0,
        0.3, 0.3, 0.3, 0.0,
        1.5, -0.2, 0.0, 1.0,
    ];
    let depth = [1.0; 6];
    let path = dir.path().join("lin.exr");
    let options = ExrOptions {
        color: ExrColor::Linear { background: bg },
        ..ExrOptions::default()
    };
    write_with(&path, 6, 1, &rgba, &depth, &options);
    let img = read_exr(&path).unwrap();
    assert_eq!(img.attribute("vksplat_color"), Some("linear"));
    let l = |c: f32| srgb_to_linear(c);
    let lb = bg.map(l);
    #[rustfmt::skip]
    let want = [
        [l(0.8), l(0.3), l(0.1)],
        lb,
        [0.5 * l(0.7) + 0.5 * lb[0], 0.5 * l(0.1) + 0.5 * lb[1], 0.5 * l(0.9) + 0.5 * lb[2]],
        [l(0.6) / 255.0 + (1.0 - 1.0 / 255.0) * lb[0], lb[1], lb[2]],
        [l(0.3); 3],
        [l(1.5), l(-0.2), 0.0],
    ];
    for (i, want) in want.iter().enumerate() {
        for (c, name) in ["R", "G", "B"].iter().enumerate() {
            let got = img.channel(name).unwrap()[i];
            assert!(
                (got - want[c]).abs() <= 2e-6 * want[c].abs().max(1.0),
                "pixel {i} {name}: {got} vs {}",
                want[c]
            );
        }
    }
    // Alpha and depth are untouched.
    let a: Vec<f32> = rgba.chunks_exact(4).map(|p| p[3]).collect();
    assert_eq!(img.channel("A").unwrap(), &a[..]);
    assert_eq!(img.channel("Z").unwrap(), &depth[..]);
}

#[test]
fn camera_matrices_follow_the_openexr_conventions() {
    let camera = crate::Camera {
        name: "c".into(),
        width: 640,
        height: 480,
        fx: 500.0,
        fy: 510.0,
        cx: 320.0,
        cy: 250.0,
        // A rotation about y by 30° plus a translation, OpenCV axes.
        world_to_camera: {
            let (s, c) = (0.5f32, 0.75f32.sqrt());
            [
                [c, 0.0, s, 0.3],
                [0.0, 1.0, 0.0, -0.2],
                [-s, 0.0, c, 4.0],
                [0.0, 0.0, 0.0, 1.0],
            ]
        },
        projection: Default::default(),
    };
    let (to_cam, to_ndc) = camera_matrices(&camera);
    let row_times = |p: [f32; 3], m: &[[f32; 4]; 4]| -> [f32; 4] {
        let v = [p[0], p[1], p[2], 1.0];
        std::array::from_fn(|j| (0..4).map(|k| v[k] * m[k][j]).sum())
    };
    for p in [[0.0f32, 0.0, 0.0], [1.0, -2.0, 0.5], [-0.7, 0.4, 3.0]] {
        let m = &camera.world_to_camera;
        let cv: [f32; 3] =
            std::array::from_fn(|i| (0..3).map(|k| m[i][k] * p[k]).sum::<f32>() + m[i][3]);
        // Camera space: x right, y up, z forward.
        let c = row_times(p, &to_cam);
        for (got, want) in c.iter().zip([cv[0], -cv[1], cv[2], 1.0]) {
            assert!((got - want).abs() < 1e-5, "{c:?} vs {cv:?}");
        }
        // NDC: the pixel position over the image size, y down; z is 1/depth.
        let n = row_times(p, &to_ndc);
        let (u, v) = (
            camera.fx * cv[0] / cv[2] + camera.cx,
            camera.fy * cv[1] / cv[2] + camera.cy,
        );
        assert!((n[0] / n[3] - u / 640.0).abs() < 1e-5);
        assert!((n[1] / n[3] - v / 480.0).abs() < 1e-5);
        assert!((n[2] / n[3] - 1.0 / cv[2]).abs() < 1e-5);
        // Orthographic: the pixel position without the divide; z is the depth.
        let ortho = crate::Camera {
            projection: crate::Projection::Orthographic,
            ..camera.clone()
        };
        let n = row_times(p, &camera_matrices(&ortho).1);
        assert_eq!(n[3], 1.0);
        let (u, v) = (camera.fx * cv[0] + camera.cx, camera.fy * cv[1] + camera.cy);
        assert!((n[0] - u / 640.0).abs() < 1e-4, "{n:?} vs {u}");
        assert!((n[1] - v / 480.0).abs() < 1e-4, "{n:?} vs {v}");
        assert!((n[2] - cv[2]).abs() < 1e-5);
    }
    // Written typed, read back typed.
    let dir = TempDir::new("exr_camera");
    let path = dir.path().join("cam.exr");
    let options = ExrOptions {
        camera: Some(&camera),
        frames_per_second: Some((24000, 1001)),
        cap_date: Some("2023:11:14 22:13:20"),
        ..ExrOptions::default()
    };
    write_with(&path, 2, 1, &[0.0; 8], &[0.0; 2], &options);
    let img = read_exr(&path).unwrap();
    assert_eq!(img.value("worldToCamera"), Some(&ExrValue::M44f(to_cam)));
    assert_eq!(img.value("worldToNDC"), Some(&ExrValue::M44f(to_ndc)));
    assert_eq!(
        img.value("framesPerSecond"),
        Some(&ExrValue::Rational(24000, 1001))
    );
    assert_eq!(img.attribute("capDate"), Some("2023:11:14 22:13:20"));
    assert_eq!(img.value("utcOffset"), Some(&ExrValue::Float(0.0)));
    // Without them, none are written.
    write_with(&path, 2, 1, &[0.0; 8], &[0.0; 2], &ExrOptions::default());
    let img = read_exr(&path).unwrap();
    for name in [
        "worldToCamera",
        "worldToNDC",
        "framesPerSecond",
        "utcOffset",
    ] {
        assert_eq!(img.value(name), None, "{name}");
    }
    assert_eq!(img.attribute("capDate"), None);
}

#[test]
fn cap_date_must_have_the_exr_form() {
    let dir = TempDir::new("exr_capdate");
    let path = dir.path().join("d.exr");
    for bad in [
        "2023-11-14 22:13:20",
        "2023:11:14T22:13:20",
        "2023:11:14 22:13",
        "",
    ] {
        let options = ExrOptions {
            cap_date: Some(bad),
            ..ExrOptions::default()
        };
        let e = write_exr_with(&path, 1, 1, &[0.0; 4], &[0.0], &options).unwrap_err();
        assert!(e.to_string().contains("capDate"), "{e}");
    }
    assert!(!path.exists());
}

#[test]
fn exr_reader_rejects_corrupt_zip_chunks() {
    let dir = TempDir::new("exr_zip_bad");
    let path = dir.path().join("z.exr");
    let (w, h) = (16u32, 16u32);
    let rgba = vec![0.5f32; (w * h * 4) as usize];
    let depth = vec![1.0f32; (w * h) as usize];
    write_with(&path, w, h, &rgba, &depth, &ExrOptions::default());
    let good = std::fs::read(&path).unwrap();
    let table = find_offset_table(&good, 1);
    let o = table[0] as usize;
    let size = i32::from_le_bytes(good[o + 4..o + 8].try_into().unwrap()) as usize;
    assert!(
        size < 16 * 16 * 20 / 10,
        "a constant chunk compresses well ({size})"
    );
    // Garbage in the zlib stream.
    let mut bad = good.clone();
    for b in &mut bad[o + 10..o + 8 + size] {
        *b ^= 0x5a;
    }
    let e = read_err(&bad);
    assert!(
        e.contains("chunk 0") && (e.contains("zlib") || e.contains("decompresses")),
        "{e}"
    );
    // A stream that inflates to more than the chunk (a bomb) stops at the chunk size.
    let mut big = Vec::new();
    let mut enc = flate2::write::ZlibEncoder::new(&mut big, flate2::Compression::new(9));
    std::io::Write::write_all(&mut enc, &vec![7u8; 16 * 16 * 20 * 100]).unwrap();
    enc.finish().unwrap();
    let mut bomb = good[..o + 4].to_vec();
    bomb.extend(&(big.len() as i32).to_le_bytes());
    bomb.extend(&big);
    let e = read_err(&bomb);
    assert!(e.contains("more than 5120 bytes"), "{e}");
    // Truncated stream.
    let mut short = good[..o + 4].to_vec();
    short.extend(&((size - 4) as i32).to_le_bytes());
    short.extend(&good[o + 8..o + 8 + size - 4]);
    let e = read_err(&short);
    assert!(e.contains("chunk 0"), "{e}");
}

#[test]
fn png_text_chunks() {
    let dir = TempDir::new("png_text");
    let path = dir.path().join("t.png");
    let text = [
        ("Software", "vksplat 0.1.0"),
        (
            "command_line",
            "vksplat render /a/b.ply --frames 3 --output '/x y/f.####.png'",
        ),
        ("Comment", "caf\u{e9}\nline two"),
    ];
    write_png_with_text(
        &path,
        2,
        1,
        &[0.0, 0.5, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0],
        &text,
    )
    .unwrap();
    let decoder = png::Decoder::new(std::fs::File::open(&path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf).unwrap();
    reader.finish().unwrap();
    let info = reader.info();
    let latin1: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|t| (t.keyword.clone(), t.text.clone()))
        .collect();
    assert_eq!(
        latin1,
        [
            ("Software".to_string(), text[0].1.to_string()),
            ("command_line".to_string(), text[1].1.to_string())
        ]
    );
    assert_eq!(info.utf8_text.len(), 1);
    assert_eq!(info.utf8_text[0].keyword, "Comment");
    assert_eq!(info.utf8_text[0].get_text().unwrap(), text[2].1);
    assert_eq!(&buf[..6], &[0, 128, 255, 255, 0, 0]);
    for bad in ["", " lead", "a  b", "tab\tkey", &"k".repeat(80)] {
        let e = write_png_with_text(&path, 1, 1, &[0.0; 4], &[(bad, "v")]).unwrap_err();
        assert!(
            matches!(e, IoError::Output { .. }) && e.to_string().contains("keyword"),
            "{e}"
        );
    }
    let e = write_png_with_text(&path, 1, 1, &[0.0; 4], &[("a", "1"), ("a", "2")]).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
}
