//! PLY reader/writer tests: layouts, SH mapping and every rejected input.

use super::*;
use crate::test_util::{Rng, TempDir};
use std::path::PathBuf;

/// A property declaration for the test encoder.
type Prop = (&'static str, String);

/// One element: name, properties, rows of values (converted per type).
struct El {
    name: &'static str,
    props: Vec<Prop>,
    rows: Vec<Vec<f64>>,
}

fn encode(format: &str, elements: &[El]) -> Vec<u8> {
    let mut out = format!("ply\nformat {format} 1.0\ncomment made by a test\nobj_info nothing\n");
    for e in elements {
        out.push_str(&format!("element {} {}\n", e.name, e.rows.len()));
        for (ty, name) in &e.props {
            out.push_str(&format!("property {ty} {name}\n"));
        }
    }
    out.push_str("end_header\n");
    let mut bytes = out.into_bytes();
    for e in elements {
        for row in &e.rows {
            assert_eq!(row.len(), e.props.len());
            for ((ty, _), &v) in e.props.iter().zip(row) {
                if format == "ascii" {
                    bytes.extend(format!("{v} ").into_bytes());
                    continue;
                }
                let be = format == "binary_big_endian";
                macro_rules! put {
                    ($t:ty) => {{
                        let x = v as $t;
                        bytes.extend(if be { x.to_be_bytes() } else { x.to_le_bytes() });
                    }};
                }
                match ScalarType::parse(ty).unwrap() {
                    ScalarType::I8 => put!(i8),
                    ScalarType::U8 => put!(u8),
                    ScalarType::I16 => put!(i16),
                    ScalarType::U16 => put!(u16),
                    ScalarType::I32 => put!(i32),
                    ScalarType::U32 => put!(u32),
                    ScalarType::F32 => put!(f32),
                    ScalarType::F64 => put!(f64),
                }
            }
            if format == "ascii" {
                bytes.push(b'\n');
            }
        }
    }
    bytes
}

fn p(ty: &'static str, name: &str) -> Prop {
    (ty, name.to_string())
}

/// A degree-1 vertex element with shuffled fields, an extra `nx`, a double
/// and an integer property. Value of each field is a known function of the
/// row so the test can check where it landed.
fn shuffled_vertex(rows: usize) -> El {
    let mut props = vec![
        p("float", "opacity"),
        p("float", "rot_2"),
        p("float", "nx"),
        p("double", "y"),
        p("float", "f_dc_2"),
        p("float", "scale_1"),
    ];
    props.extend((0..9).rev().map(|j| p("float", &format!("f_rest_{j}"))));
    props.extend([
        p("float", "rot_0"),
        p("int16", "x"),
        p("float", "f_dc_0"),
        p("float", "scale_0"),
        p("float", "rot_3"),
        p("float", "z"),
        p("float", "f_dc_1"),
        p("float", "scale_2"),
        p("float", "rot_1"),
        p("uchar", "ignored_u8"),
    ]);
    let value = |name: &str, i: usize| -> f64 {
        let i = i as f64;
        match name {
            "x" => -3.0 - i,
            "y" => 0.25 + i,
            "z" => 1.5 * i,
            "rot_0" => 2.0,
            "rot_1" | "rot_2" | "rot_3" => 0.0,
            "opacity" => -0.5 + i,
            "scale_0" => -1.0,
            "scale_1" => -2.0,
            "scale_2" => -3.0 - i,
            "nx" => 7.0,
            "ignored_u8" => 200.0,
            n if n.starts_with("f_dc_") => 1000.0 * i + n[5..].parse::<f64>().unwrap(),
            n => 1000.0 * i + 100.0 + n[7..].parse::<f64>().unwrap(),
        }
    };
    let rows = (0..rows)
        .map(|i| props.iter().map(|(_, n)| value(n, i)).collect())
        .collect();
    El {
        name: "vertex",
        props,
        rows,
    }
}

fn parse_bytes(bytes: &[u8]) -> Result<Splats, IoError> {
    parse_ply(bytes, Path::new("scene.ply"))
}

fn err_of(bytes: &[u8]) -> String {
    match parse_bytes(bytes) {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            assert!(matches!(e, IoError::Input { .. }));
            let s = e.to_string();
            assert!(s.starts_with("scene.ply: "), "{s}");
            s
        }
    }
}

fn check_shuffled(s: &Splats, rows: usize) {
    assert_eq!(s.len(), rows);
    assert_eq!(s.sh_degree, 1);
    assert_eq!(s.coeffs_per_splat(), 4);
    for i in 0..rows {
        let fi = i as f32;
        assert_eq!(s.means[i], [-3.0 - fi, 0.25 + fi, 1.5 * fi]);
        assert_eq!(
            s.rotations[i],
            [1.0, 0.0, 0.0, 0.0],
            "normalised from (2,0,0,0)"
        );
        assert_eq!(s.log_scales[i], [-1.0, -2.0, -3.0 - fi]);
        assert_eq!(s.opacity_logits[i], -0.5 + fi);
        for c in 0..3 {
            // DC term.
            assert_eq!(s.sh[(i * 4) * 3 + c], 1000.0 * fi + c as f32);
            for k in 1..4 {
                // Channel-major in the file: f_rest_{c*3 + k-1}.
                let j = c * 3 + (k - 1);
                assert_eq!(s.sh[(i * 4 + k) * 3 + c], 1000.0 * fi + 100.0 + j as f32);
            }
        }
    }
    // Spot check of the mapping written out literally for splat 0:
    // coefficient 1 is (f_rest_0, f_rest_3, f_rest_6), coefficient 3 is (f_rest_2, f_rest_5, f_rest_8).
    assert_eq!(&s.sh[3..6], &[100.0, 103.0, 106.0]);
    assert_eq!(&s.sh[9..12], &[102.0, 105.0, 108.0]);
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn shuffled_fields_all_formats() {
    for format in ["binary_little_endian", "binary_big_endian", "ascii"] {
        let bytes = encode(format, &[shuffled_vertex(3)]);
        let s = parse_bytes(&bytes).unwrap_or_else(|e| panic!("{format}: {e}"));
        check_shuffled(&s, 3);
    }
}

#[test]
fn other_elements_before_and_after_are_skipped() {
    for format in ["binary_little_endian", "binary_big_endian", "ascii"] {
        let before = El {
            name: "camera",
            props: vec![p("float", "a"), p("double", "b"), p("uint8", "c")],
            rows: vec![vec![1.0, 2.0, 3.0]; 2],
        };
        let after = El {
            name: "extra",
            props: vec![p("int", "q")],
            rows: vec![vec![-5.0]; 3],
        };
        let bytes = encode(format, &[before, shuffled_vertex(2), after]);
        check_shuffled(&parse_bytes(&bytes).unwrap(), 2);
    }
}

#[test]
fn integer_types_convert() {
    let types = [
        "char", "uchar", "short", "ushort", "int", "uint", "int8", "uint32",
    ];
    let mut el = El {
        name: "vertex",
        props: Vec::new(),
        rows: vec![Vec::new()],
    };
    let names = [
        "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0",
    ];
    for (ty, name) in types.iter().zip(names) {
        el.props.push(p(ty, name));
    }
    let values = [
        -7.0,
        250.0,
        -30000.0,
        65535.0,
        -2e9,
        4e9,
        -128.0,
        4_000_000_000.0,
    ];
    el.rows[0].extend(values);
    for name in ["scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"] {
        el.props.push(p("float", name));
        el.rows[0].push(if name == "rot_3" { 1.0 } else { 0.0 });
    }
    for format in ["binary_little_endian", "binary_big_endian", "ascii"] {
        let s = parse_bytes(&encode(format, &[el_clone(&el)])).unwrap();
        assert_eq!(s.means[0], [-7.0, 250.0, -30000.0]);
        assert_eq!(&s.sh[..], &[65535.0, -2e9, 4e9]);
        assert_eq!(s.opacity_logits[0], -128.0);
        assert_eq!(s.log_scales[0], [4e9, 0.0, 0.0]);
        assert_eq!(s.rotations[0], [0.0, 0.0, 0.0, 1.0]);
    }
}

fn el_clone(e: &El) -> El {
    El {
        name: e.name,
        props: e.props.clone(),
        rows: e.rows.clone(),
    }
}

fn random_splats(rng: &mut Rng, n: usize, deg: u32) -> Splats {
    let k = ((deg + 1) * (deg + 1)) as usize;
    let mut s = Splats {
        sh_degree: deg,
        ..Default::default()
    };
    for _ in 0..n {
        s.means.push([
            rng.range(-50.0, 50.0),
            rng.range(-50.0, 50.0),
            rng.range(-50.0, 50.0),
        ]);
        let q = [
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
        ];
        s.rotations.push(normalised_quat(q));
        s.log_scales.push([
            rng.range(-8.0, 1.0),
            rng.range(-8.0, 1.0),
            rng.range(-8.0, 1.0),
        ]);
        s.opacity_logits.push(rng.range(-10.0, 10.0));
        s.sh.extend((0..k * 3).map(|_| rng.range(-3.0, 3.0)));
    }
    s
}

#[test]
fn round_trip_every_degree() {
    let dir = TempDir::new("ply_round_trip");
    let mut rng = Rng::new(0x5eed);
    for deg in 0..=3 {
        for n in [0, 1, 257] {
            let s = random_splats(&mut rng, n, deg);
            let path = dir.path().join(format!("s{deg}_{n}.ply"));
            write_ply(&path, &s).unwrap();
            let back = read_ply(&path).unwrap();
            assert_eq!(back, s, "degree {deg}, {n} splats");
            let expected_len = header_len(&path) + n * (14 + 3 * k_of(deg)) * 4;
            assert_eq!(
                std::fs::metadata(&path).unwrap().len() as usize,
                expected_len
            );
        }
    }
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")),
        "{names:?}"
    );
}

fn k_of(deg: u32) -> usize {
    ((deg + 1) * (deg + 1)) as usize
}

fn header_len(path: &Path) -> usize {
    let b = std::fs::read(path).unwrap();
    let end = b"end_header\n";
    b.windows(end.len()).position(|w| w == end).unwrap() + end.len()
}

#[test]
fn written_header_is_inria_layout() {
    let dir = TempDir::new("ply_header");
    let path = dir.path().join("a.ply");
    write_ply(&path, &random_splats(&mut Rng::new(1), 1, 1)).unwrap();
    let b = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&b[..header_len(&path)]).into_owned();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("property float "))
        .collect();
    let mut expected = vec![
        "x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2",
    ];
    let rest: Vec<String> = (0..9).map(|j| format!("f_rest_{j}")).collect();
    expected.extend(rest.iter().map(String::as_str));
    expected.extend([
        "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
    ]);
    assert_eq!(names, expected);
    assert!(text.starts_with("ply\nformat binary_little_endian 1.0\nelement vertex 1\n"));
}

#[test]
fn quaternions_are_normalised_but_zero_stays_zero() {
    let mut el = shuffled_vertex(3);
    let idx = |el: &El, n: &str| el.props.iter().position(|(_, m)| m == n).unwrap();
    let r = [
        idx(&el, "rot_0"),
        idx(&el, "rot_1"),
        idx(&el, "rot_2"),
        idx(&el, "rot_3"),
    ];
    let quats = [
        [1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 3.0, 0.0, -4.0],
    ];
    for (row, q) in el.rows.iter_mut().zip(quats) {
        for a in 0..4 {
            row[r[a]] = q[a];
        }
    }
    let s = parse_bytes(&encode("binary_little_endian", &[el])).unwrap();
    assert_eq!(s.rotations[0], [0.5; 4]);
    assert_eq!(s.rotations[1], [0.0; 4]);
    assert_eq!(s.rotations[2], [0.0, 0.6, 0.0, -0.8]);
    let e = s.validate().unwrap_err();
    assert!(e.contains("splat 1") && e.contains("zero-length"), "{e}");
}

#[test]
fn non_finite_values_are_kept_for_validate() {
    let mut el = shuffled_vertex(2);
    let xi = el.props.iter().position(|(_, m)| m == "opacity").unwrap();
    el.rows[1][xi] = f64::NAN;
    let s = parse_bytes(&encode("binary_little_endian", &[el])).unwrap();
    assert!(s.opacity_logits[1].is_nan());
    assert!(s.validate().unwrap_err().contains("splat 1: opacity_logit"));
}

#[test]
fn zero_vertices_is_valid() {
    let bytes = encode("binary_little_endian", &[shuffled_vertex(0)]);
    let s = parse_bytes(&bytes).unwrap();
    assert!(s.is_empty());
    assert_eq!(s.sh_degree, 1);
    assert!(s.sh.is_empty());
    let s = parse_bytes(&encode("ascii", &[shuffled_vertex(0)])).unwrap();
    assert!(s.is_empty());
}

#[test]
fn truncated_file() {
    let bytes = encode("binary_little_endian", &[shuffled_vertex(4)]);
    let e = err_of(&bytes[..bytes.len() - 1]);
    assert!(e.contains("truncated") && e.contains("4 vertices"), "{e}");
    let full = bytes.len() - header_len_bytes(&bytes);
    assert!(e.contains(&format!("needs {full} bytes")), "{e}");
    assert!(e.contains(&format!("only {} bytes", full - 1)), "{e}");

    let bytes = encode("ascii", &[shuffled_vertex(4)]);
    let cut = bytes.len() - 8; // drops at least the last value of the last row
    let e = err_of(&bytes[..cut]);
    assert!(e.contains("truncated"), "{e}");
}

fn header_len_bytes(b: &[u8]) -> usize {
    let end = b"end_header\n";
    b.windows(end.len()).position(|w| w == end).unwrap() + end.len()
}

/// Rewrites `element vertex N` in an encoded file.
fn with_vertex_count(bytes: &[u8], from: usize, to: &str) -> Vec<u8> {
    let hl = header_len_bytes(bytes);
    let header = std::str::from_utf8(&bytes[..hl]).unwrap();
    let header = header.replace(
        &format!("element vertex {from}\n"),
        &format!("element vertex {to}\n"),
    );
    let mut out = header.into_bytes();
    out.extend_from_slice(&bytes[hl..]);
    out
}

#[test]
fn lying_counts() {
    for format in ["binary_little_endian", "ascii"] {
        let bytes = encode(format, &[shuffled_vertex(3)]);
        let e = err_of(&with_vertex_count(&bytes, 3, "4"));
        assert!(e.contains("truncated"), "{format}: {e}");
        let e = err_of(&with_vertex_count(&bytes, 3, "2"));
        assert!(
            e.contains("header says 2 vertices but file has more data"),
            "{format}: {e}"
        );
    }
}

#[test]
fn huge_count_is_rejected_without_allocating() {
    for format in ["binary_little_endian", "binary_big_endian", "ascii"] {
        let bytes = encode(format, &[shuffled_vertex(1)]);
        for count in ["4000000000", "18446744073709551615"] {
            let e = err_of(&with_vertex_count(&bytes, 1, count));
            assert!(e.contains("truncated") && e.contains(count), "{e}");
        }
    }
    // A count that does not even fit in u64.
    let bytes = encode("binary_little_endian", &[shuffled_vertex(1)]);
    let e = err_of(&with_vertex_count(&bytes, 1, "99999999999999999999999"));
    assert!(e.contains("not a number"), "{e}");
}

#[test]
fn empty_element_with_huge_count_is_skipped_quickly() {
    for format in ["binary_little_endian", "ascii"] {
        let bytes = encode(format, &[shuffled_vertex(2)]);
        let hl = header_len_bytes(&bytes);
        let header = String::from_utf8(bytes[..hl].to_vec()).unwrap();
        let header = header.replace(
            "end_header\n",
            "element nothing 18446744073709551615\nend_header\n",
        );
        let mut b = header.into_bytes();
        b.extend_from_slice(&bytes[hl..]);
        check_shuffled(&parse_bytes(&b).unwrap(), 2);
    }
}

#[test]
fn missing_end_header() {
    let bytes = encode("binary_little_endian", &[shuffled_vertex(1)]);
    let text =
        String::from_utf8_lossy(&bytes[..header_len_bytes(&bytes)]).replace("end_header\n", "");
    let e = err_of(text.as_bytes());
    assert!(e.contains("end_header"), "{e}");
    let e = err_of(b"ply\nformat ascii 1.0\nelement vertex 0");
    assert!(e.contains("end_header"), "{e}");
}

#[test]
fn missing_required_field() {
    for missing in ["opacity", "rot_3", "x", "f_dc_1", "scale_2"] {
        let mut el = shuffled_vertex(1);
        let i = el.props.iter().position(|(_, n)| n == missing).unwrap();
        el.props.remove(i);
        el.rows[0].remove(i);
        let e = err_of(&encode("binary_little_endian", &[el]));
        assert!(e.contains(&format!("'{missing}'")), "{e}");
    }
    // Right number of f_rest fields but one index missing.
    let mut el = shuffled_vertex(1);
    let i = el.props.iter().position(|(_, n)| n == "f_rest_4").unwrap();
    el.props[i].1 = "f_rest_9".into();
    let e = err_of(&encode("binary_little_endian", &[el]));
    assert!(e.contains("'f_rest_4'"), "{e}");
}

#[test]
fn bad_f_rest_count() {
    let mut el = shuffled_vertex(1);
    let i = el.props.iter().position(|(_, n)| n == "f_rest_8").unwrap();
    el.props.remove(i);
    el.rows[0].remove(i);
    let e = err_of(&encode("binary_little_endian", &[el]));
    assert!(e.contains("8 f_rest_* properties"), "{e}");
}

#[test]
fn list_property_is_unsupported() {
    let bytes = encode("binary_little_endian", &[shuffled_vertex(1)]);
    let text = String::from_utf8(bytes[..header_len_bytes(&bytes)].to_vec()).unwrap();
    let text = text.replace(
        "end_header\n",
        "element face 0\nproperty list uchar int vertex_indices\nend_header\n",
    );
    let mut b = text.into_bytes();
    b.extend_from_slice(&bytes[header_len_bytes(&bytes)..]);
    let e = err_of(&b);
    assert!(
        e.contains("list") && e.contains("unsupported") && e.contains("face"),
        "{e}"
    );
}

#[test]
fn malformed_headers() {
    let e = err_of(b"\x89PNG\r\n");
    assert!(e.contains("not a PLY file"), "{e}");
    let e = err_of(b"ply\nformat binary_little_endian 1.0\ncomment \xff\xfe\nend_header\n");
    assert!(e.contains("UTF-8"), "{e}");
    let e = err_of(b"ply\nformat ascii 1.0\nend_header\n");
    assert!(e.contains("no 'vertex' element"), "{e}");
    let e = err_of(b"ply\nelement vertex 0\nend_header\n");
    assert!(e.contains("format"), "{e}");
    let e = err_of(b"ply\nformat ascii 1.0\nelement vertex 0\nproperty quad x\nend_header\n");
    assert!(e.contains("unknown property type 'quad'"), "{e}");
    let e = err_of(b"ply\nformat ascii 1.0\nproperty float x\nend_header\n");
    assert!(e.contains("before any element"), "{e}");
    let e = err_of(b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float x\nend_header\n");
    assert!(e.contains("declared twice"), "{e}");
    let e = err_of(b"");
    assert!(e.contains("not a PLY file"), "{e}");
}

#[test]
fn bad_ascii_value() {
    let mut bytes = encode("ascii", &[shuffled_vertex(1)]);
    let hl = header_len_bytes(&bytes);
    bytes[hl] = b'q';
    let e = err_of(&bytes);
    assert!(
        e.contains("row 0") && e.contains("opacity") && e.contains("not a valid"),
        "{e}"
    );
}

#[test]
fn crlf_header_is_accepted() {
    let bytes = encode("binary_little_endian", &[shuffled_vertex(2)]);
    let hl = header_len_bytes(&bytes);
    let header = String::from_utf8(bytes[..hl].to_vec())
        .unwrap()
        .replace('\n', "\r\n");
    let mut b = header.into_bytes();
    b.extend_from_slice(&bytes[hl..]);
    check_shuffled(&parse_bytes(&b).unwrap(), 2);
}

#[test]
fn io_errors_name_the_path() {
    let dir = TempDir::new("ply_io_errors");
    let missing: PathBuf = dir.path().join("nope.ply");
    match read_ply(&missing) {
        Err(e @ IoError::Input { .. }) => assert!(e.to_string().contains("nope.ply"), "{e}"),
        other => panic!("{other:?}"),
    }
    let out = dir.path().join("no_such_dir").join("out.ply");
    match write_ply(&out, &Splats::default()) {
        Err(e @ IoError::Output { .. }) => {
            assert!(e.to_string().contains("no_such_dir/out.ply"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let bad = Splats {
        means: vec![[0.0; 3]],
        ..Default::default()
    };
    assert!(matches!(
        write_ply(&dir.path().join("bad.ply"), &bad),
        Err(IoError::Output { .. })
    ));
}

/// Not a correctness test: `cargo test --release -p vksplat-io -- --ignored --nocapture`
/// prints how long a 1M-splat degree-3 file takes to parse.
#[test]
#[ignore]
fn parse_speed_1m() {
    let s = random_splats(&mut Rng::new(7), 1_000_000, 3);
    let dir = TempDir::new("ply_speed");
    let path = dir.path().join("big.ply");
    write_ply(&path, &s).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let t = std::time::Instant::now();
    let back = parse_ply(&bytes, &path).unwrap();
    let dt = t.elapsed();
    assert_eq!(back.len(), 1_000_000);
    eprintln!("parsed {} bytes in {:?}", bytes.len(), dt);
}

// ---------------------------------------------------------------------------
// Named columns

fn columns_of(bytes: &[u8], names: &[&str]) -> Result<PlyColumns, IoError> {
    let dir = TempDir::new("ply_columns");
    let path = dir.path().join("cols.ply");
    std::fs::write(&path, bytes).unwrap();
    read_columns(&path, names)
}

fn columns_err(bytes: &[u8], names: &[&str]) -> String {
    let e = columns_of(bytes, names).expect_err("expected an error");
    assert!(matches!(e, IoError::Input { .. }));
    let s = e.to_string();
    assert!(s.contains("cols.ply: "), "{s}");
    s
}

#[test]
fn columns_by_name_in_every_format_and_type() {
    for format in ["binary_little_endian", "binary_big_endian", "ascii"] {
        let before = El {
            name: "camera",
            props: vec![p("float", "a"), p("double", "b")],
            rows: vec![vec![1.0, 2.0]; 2],
        };
        let bytes = encode(format, &[before, shuffled_vertex(5)]);
        let names = ["x", "y", "ignored_u8", "f_rest_4", "nx"];
        let c = columns_of(&bytes, &names).unwrap();
        assert_eq!(c.len(), 5, "{format}");
        assert_eq!(c.names(), names, "{format}");
        for i in 0..5 {
            let f = i as f32;
            assert_eq!(c.get("x").unwrap()[i], -3.0 - f, "{format}: int16");
            assert_eq!(c.get("y").unwrap()[i], 0.25 + f, "{format}: double");
            assert_eq!(c.column(2)[i], 200.0, "{format}: uchar");
            assert_eq!(c.get("f_rest_4").unwrap()[i], 1000.0 * f + 104.0);
            assert_eq!(c.get("nx").unwrap()[i], 7.0);
        }
        assert_eq!(c.get("opacity"), None, "only the columns asked for");
        assert!(c.comments.iter().any(|t| t == "made by a test"));
    }
}

#[test]
fn columns_missing_properties_are_named() {
    let bytes = encode("binary_little_endian", &[shuffled_vertex(2)]);
    let e = columns_err(&bytes, &["x", "trbf_center", "y", "omega_3"]);
    assert!(
        e.contains("no properties 'trbf_center', 'omega_3'"),
        "every missing name: {e}"
    );
    let e = columns_err(&bytes, &["motion_0"]);
    assert!(e.contains("no property 'motion_0'"), "{e}");
}

#[test]
fn columns_body_checked_like_read_ply() {
    for format in ["binary_little_endian", "ascii"] {
        let bytes = encode(format, &[shuffled_vertex(3)]);
        let cut = if format == "ascii" { 8 } else { 1 };
        let e = columns_err(&bytes[..bytes.len() - cut], &["x"]);
        assert!(e.contains("truncated"), "{format}: {e}");
        let e = columns_err(&with_vertex_count(&bytes, 3, "2"), &["x"]);
        assert!(e.contains("file has more data"), "{format}: {e}");
        let e = columns_err(&with_vertex_count(&bytes, 3, "4000000000"), &["x"]);
        assert!(e.contains("truncated"), "{format}: {e}");
    }
    let e = columns_err(
        b"ply\nformat ascii 1.0\nelement face 0\nend_header\n",
        &["x"],
    );
    assert!(e.contains("no 'vertex' element"), "{e}");
    let e = columns_err(b"not a ply", &["x"]);
    assert!(e.contains("not a PLY"), "{e}");
}

#[test]
fn columns_round_trip_through_write_columns() {
    let dir = TempDir::new("ply_write_columns");
    let path = dir.path().join("w.ply");
    let mut rng = Rng::new(11);
    let a: Vec<f32> = (0..1000).map(|_| rng.range(-1.0, 1.0)).collect();
    let b: Vec<f32> = (0..1000).map(|_| rng.range(-1e6, 1e6)).collect();
    write_columns(&path, &[("trbf_center", &a), ("motion_8", &b)], &["four d"]).unwrap();
    let c = read_columns(&path, &["motion_8", "trbf_center"]).unwrap();
    assert_eq!(c.get("trbf_center").unwrap(), &a[..]);
    assert_eq!(c.get("motion_8").unwrap(), &b[..]);
    assert_eq!(c.comments, ["four d"]);
    let info = read_vertex_info(&path).unwrap();
    assert_eq!(info.count, 1000);
    assert_eq!(info.properties, ["trbf_center", "motion_8"]);
    assert!(info.has_all(&["motion_8"]) && !info.has_all(&["motion_8", "x"]));

    // Bad columns are refused before anything is written.
    let short = [0f32; 3];
    for cols in [
        vec![("a", &a[..]), ("b", &short[..])],
        vec![("a", &a[..]), ("a", &a[..])],
        vec![("a b", &a[..])],
    ] {
        let out = dir.path().join("bad.ply");
        assert!(matches!(
            write_columns(&out, &cols, &[]),
            Err(IoError::Output { .. })
        ));
        assert!(!out.exists());
    }
}
