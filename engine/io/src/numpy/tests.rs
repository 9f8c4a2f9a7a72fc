//! The `.npy`/`.npz` reader against archives written by numpy itself (2.x, `np.savez` and
//! `np.savez_compressed`; zip64 local headers, as numpy writes them), hand-made `.npy`
//! headers, and damaged files.

use std::path::Path;

use super::*;
use crate::test_util::TempDir;

// Written by numpy 2.4 with
//   a = np.arange(6, dtype='<f4').reshape(2, 3) * 0.5 - 1
//   b = np.array([1.5, -2.25, 1e-3], dtype='<f8')
//   c = np.array([[1, -2], [300, 4]], dtype='>i2')
//   np.savez(f, means=a, times=b, ids=c)   # and np.savez_compressed
const SAVEZ: &str = concat!(
    "504b03042d0000000000000021004b4a6801ffffffffffffffff090014006d65616e732e6e7079010010009800000000",
    "0000009800000000000000934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f",
    "72646572273a2046616c73652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020",
    "2020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000080bf00",
    "0000bf000000000000003f0000803f0000c03f504b03042d00000000000000210036ea15f6ffffffffffffffff090014",
    "0074696d65732e6e70790100100098000000000000009800000000000000934e554d5059010076007b27646573637227",
    "3a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c20",
    "7d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020",
    "202020202020202020202020200a000000000000f83f00000000000002c0fca9f1d24d62503f504b03042d0000000000",
    "00002100418f7927ffffffffffffffff070014006964732e6e7079010010008800000000000000880000000000000093",
    "4e554d5059010076007b276465736372273a20273e6932272c2027666f727472616e5f6f72646572273a2046616c7365",
    "2c20277368617065273a2028322c2032292c207d20202020202020202020202020202020202020202020202020202020",
    "2020202020202020202020202020202020202020202020202020202020200a0001fffe012c0004504b01022d032d0000",
    "000000000021004b4a680198000000980000000900000000000000000000008001000000006d65616e732e6e7079504b",
    "01022d032d00000000000000210036ea15f698000000980000000900000000000000000000008001d300000074696d65",
    "732e6e7079504b01022d032d000000000000002100418f792788000000880000000700000000000000000000008001a6",
    "0100006964732e6e7079504b05060000000003000300a3000000670200000000",
);
const SAVEZ_COMPRESSED: &str = concat!(
    "504b03042d0000000800000021004b4a6801ffffffffffffffff090014006d65616e732e6e7079010010009800000000",
    "00000057000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f",
    "5f94920a12774bcc294e058a17672416a402f91a463a0ac69a3a0ab50a64032e068686fd0c0c0c200c02f6403e101fb0",
    "0700504b03042d00000008000000210036ea15f6ffffffffffffffff0900140074696d65732e6e707901001000980000",
    "000000000055000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a1aea3a09e965f54529498",
    "179f5f94920a12774bcc294e058a17672416a402f91ac63a9a3a0ab50a14002e0630f8610fa1990efc59f9f1926f5280",
    "3d00504b03042d000000080000002100418f7927ffffffffffffffff070014006964732e6e7079010010008800000000",
    "0000004e000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9769a4aea3a09e965f54529498179f",
    "5f94920a12774bcc294e058a17672416a402f91a463a0a469a3a0ab50a64032e06c6ffff1875185800504b01022d032d",
    "0000000800000021004b4a680157000000980000000900000000000000000000008001000000006d65616e732e6e7079",
    "504b01022d032d00000008000000210036ea15f655000000980000000900000000000000000000008001920000007469",
    "6d65732e6e7079504b01022d032d000000080000002100418f79274e0000008800000007000000000000000000000080",
    "01220100006964732e6e7079504b05060000000003000300a3000000a90100000000",
);

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// An `.npy` file: version 1 header text padded to a multiple of 64 bytes, then `data`.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header.to_string();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

fn check_fixture(path: &Path) {
    let npz = Npz::open(path).unwrap();
    assert_eq!(npz.names().collect::<Vec<_>>(), ["means", "times", "ids"]);
    let means = npz.read_shaped("means", &[Some(2), None]).unwrap();
    assert_eq!(means.shape, [2, 3]);
    assert_eq!(means.dtype, "<f4");
    assert_eq!(means.data, [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]);
    let times = npz.read("times").unwrap();
    assert_eq!(times.shape, [3]);
    assert_eq!(times.data, [1.5, -2.25, 1e-3f64 as f32]);
    let ids = npz.read("ids.npy").unwrap();
    assert_eq!(ids.dtype, ">i2");
    assert_eq!(ids.data, [1.0, -2.0, 300.0, 4.0]);
    assert!(npz.contains("ids") && !npz.contains("id"));
}

#[test]
fn reads_numpy_savez_and_savez_compressed() {
    let dir = TempDir::new("npz-numpy");
    check_fixture(&write(&dir, "stored.npz", &unhex(SAVEZ)));
    check_fixture(&write(&dir, "deflated.npz", &unhex(SAVEZ_COMPRESSED)));
}

#[test]
fn missing_arrays_and_wrong_shapes_name_file_and_entry() {
    let dir = TempDir::new("npz-missing");
    let path = write(&dir, "params.npz", &unhex(SAVEZ));
    let npz = Npz::open(&path).unwrap();
    let e = npz.read("means3D").unwrap_err().to_string();
    assert!(e.contains("params.npz") && e.contains("'means3D'"), "{e}");
    assert!(e.contains("ids, means, times"), "{e}");
    let e = npz
        .read_shaped("means", &[None, None, Some(3)])
        .unwrap_err();
    assert_eq!(
        e.message(),
        "array 'means' has shape (2, 3), expected (*, *, 3)"
    );
    let e = npz.read_shaped("times", &[Some(4)]).unwrap_err();
    assert_eq!(e.message(), "array 'times' has shape (3,), expected (4,)");
}

#[test]
fn every_truncation_is_an_error() {
    let dir = TempDir::new("npz-truncated");
    for fixture in [SAVEZ, SAVEZ_COMPRESSED] {
        let bytes = unhex(fixture);
        for len in 0..bytes.len() {
            let path = write(&dir, "cut.npz", &bytes[..len]);
            let result = Npz::open(&path).and_then(|npz| {
                for name in ["means", "times", "ids"] {
                    npz.read(name)?;
                }
                Ok(())
            });
            let e = result.expect_err("a truncated archive must not read");
            assert!(
                e.to_string().starts_with(&path.display().to_string()),
                "{e}"
            );
        }
    }
}

#[test]
fn damaged_bytes_are_errors_not_panics() {
    let dir = TempDir::new("npz-damaged");
    // Stored: the last value of 'means' (bytes 0x94..0x98 of its data) changes: CRC mismatch.
    let mut bytes = unhex(SAVEZ);
    let means_end = 30 + 9 + 20 + 0x98;
    bytes[means_end - 1] ^= 0x40;
    let path = write(&dir, "crc.npz", &bytes);
    let e = Npz::open(&path).unwrap().read("means").unwrap_err();
    assert!(
        e.message().contains("array 'means': CRC-32 mismatch"),
        "{e}"
    );
    // A shape that disagrees with the entry's declared size.
    let bytes = unhex(SAVEZ);
    let at = bytes
        .windows(6)
        .position(|w| w == b"(2, 3)")
        .expect("means' shape");
    let mut wrong = bytes.clone();
    wrong[at + 4] = b'4';
    let path = write(&dir, "shape.npz", &wrong);
    let e = Npz::open(&path).unwrap().read("means").unwrap_err();
    assert!(
        e.message()
            .contains("header describes 160 bytes ((2, 4) <f4) but the entry declares 152"),
        "{e}"
    );
    // Every single-byte change of either archive: an error or an array, never a panic.
    for fixture in [SAVEZ, SAVEZ_COMPRESSED] {
        let bytes = unhex(fixture);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xa5;
            let path = write(&dir, "flip.npz", &b);
            if let Ok(npz) = Npz::open(&path) {
                for name in ["means", "times", "ids"] {
                    let _ = npz.read(name);
                }
            }
        }
    }
}

#[test]
fn npy_dtypes_convert_to_f32() {
    let dir = TempDir::new("npy-dtypes");
    let cases: Vec<(&str, Vec<u8>, Vec<f32>)> = vec![
        (
            "<f4",
            [1.5f32, -2.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![1.5, -2.0],
        ),
        (
            ">f4",
            [1.5f32, -2.0]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            vec![1.5, -2.0],
        ),
        (
            "<f8",
            [0.1f64, 1e300]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![0.1, f32::INFINITY],
        ),
        ("<f2", vec![0x00, 0x3c, 0x00, 0xc0], vec![1.0, -2.0]),
        ("|i1", vec![0xff, 0x7f], vec![-1.0, 127.0]),
        ("|u1", vec![0xff, 0x01], vec![255.0, 1.0]),
        (
            "<i4",
            [-70000i32, 3]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![-70000.0, 3.0],
        ),
        (
            ">i8",
            [-5i64, 1 << 40]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect(),
            vec![-5.0, (1u64 << 40) as f32],
        ),
        ("<u2", vec![0xff, 0xff, 0x02, 0x00], vec![65535.0, 2.0]),
        ("|b1", vec![1, 0], vec![1.0, 0.0]),
    ];
    for (descr, data, want) in cases {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}");
        let path = write(&dir, "a.npy", &npy(&header, &data));
        let a = read_npy(&path).unwrap_or_else(|e| panic!("{descr}: {e}"));
        assert_eq!(a.shape, [2], "{descr}");
        assert_eq!(a.data, want, "{descr}");
    }
    // A scalar and an empty array.
    let path = write(
        &dir,
        "s.npy",
        &npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
            &2.5f32.to_le_bytes(),
        ),
    );
    let a = read_npy(&path).unwrap();
    assert_eq!((a.shape.len(), a.data.as_slice()), (0, &[2.5f32][..]));
    let path = write(
        &dir,
        "e.npy",
        &npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3)}",
            &[],
        ),
    );
    assert_eq!(read_npy(&path).unwrap().shape, [0, 3]);
}

#[test]
fn bad_npy_files_are_named_errors() {
    let dir = TempDir::new("npy-bad");
    let f4 = |n: usize| vec![0u8; 4 * n];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PK\x03\x04 not npy".to_vec(), "no \\x93NUMPY magic"),
        (b"\x93NUM".to_vec(), "not an .npy array: the data ends"),
        (
            npy(
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}",
                &f4(2),
            ),
            "Fortran-order",
        ),
        (
            npy(
                "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}",
                &f4(2),
            ),
            "structured dtypes",
        ),
        (
            npy(
                "{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}",
                &f4(4),
            ),
            "dtype '<c8' is not supported",
        ),
        (
            npy("{'descr': '<f4', 'fortran_order': False}", &f4(2)),
            "has no 'shape'",
        ),
        (
            npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                &f4(3),
            ),
            "describes 136 bytes",
        ),
        (
            npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                &f4(1),
            ),
            "describes 136 bytes",
        ),
        (
            npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
                &[],
            ),
            "negative dimension",
        ),
        (
            npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
                &[],
            ),
            "overflows",
        ),
        (
            npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1 << 40,)}",
                &[],
            ),
            "expected ','",
        ),
        (
            npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
                &f4(2),
            ),
            "expected ','",
        ),
    ];
    for (bytes, want) in cases {
        let path = write(&dir, "bad.npy", &bytes);
        let e = read_npy(&path).expect_err(want);
        assert!(matches!(e, IoError::Input { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
        assert!(e.message().contains(want), "want '{want}': {e}");
    }
    // Version 2 headers have a 4-byte length.
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n";
    v2.extend_from_slice(&(text.len() as u32).to_le_bytes());
    v2.extend_from_slice(text.as_bytes());
    v2.extend_from_slice(&7.0f32.to_le_bytes());
    let path = write(&dir, "v2.npy", &v2);
    assert_eq!(read_npy(&path).unwrap().data, [7.0]);
}

#[test]
fn shapes_and_indices_for_messages() {
    let a = Array {
        shape: vec![2, 3, 4],
        data: vec![0.0; 24],
        dtype: "<f4".into(),
    };
    assert_eq!(a.index_of(23), [1, 2, 3]);
    assert_eq!(a.index_of(13), [1, 0, 1]);
    assert!(a.has_shape(&[None, Some(3), Some(4)]));
    assert!(!a.has_shape(&[None, Some(3)]));
    assert_eq!(shape_text([Some(2), None]), "(2, *)");
    let mut b = a.clone();
    b.data[13] = f32::NAN;
    assert_eq!(b.first_non_finite(), Some(13));
    assert_eq!(a.first_non_finite(), None);
}
