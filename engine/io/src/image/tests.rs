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
    assert_eq!(got, attrs);
    assert_eq!(img.attribute("device"), Some("llvmpipe (LLVM 15)"));

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
        (vec![("channels", "v")], "standard"),
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
    let zip = replace(
        &good,
        b"compression\0compression\0\x01\0\0\0\0",
        b"compression\0compression\0\x01\0\0\0\x03",
    );
    assert!(read_err(&zip).contains("compression 3"));
    let half = replace(&good, b"A\0\x02\0\0\0", b"A\0\x01\0\0\0");
    assert!(read_err(&half).contains("HALF"));
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
