//! Writes NumPy `.npy` arrays and `.npz` archives (stored or deflated zip entries) for tests,
//! from the formats' published layouts: an `.npy` is the magic `\x93NUMPY`, version 1.0, a
//! little-endian u16 header length and a Python dict literal padded with spaces to a multiple
//! of 64 bytes, then the C-order data; an `.npz` is a zip file of `NAME.npy` entries.

use std::path::Path;

/// A float32 array as `.npy` bytes.
pub fn npy_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    assert_eq!(
        shape.iter().product::<usize>(),
        data.len(),
        "shape and data"
    );
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy_bytes_typed("<f4", shape, &raw)
}

/// An array of dtype `descr` (e.g. `<f8`, `<i4`) as `.npy` bytes, its values already encoded
/// in `raw` (C order; not checked against the shape, so tests can write truncated files).
pub fn npy_bytes_typed(descr: &str, shape: &[usize], raw: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(raw);
    out
}

/// Writes an `.npz` of float32 arrays `(name, shape, data)`, each entry stored or deflated.
pub fn write_npz(path: &Path, arrays: &[(&str, &[usize], &[f32])], deflate: bool) {
    use std::io::Write;
    let mut zip = Vec::new();
    let mut central = Vec::new();
    for (name, shape, data) in arrays {
        let raw = npy_bytes(shape, data);
        let mut crc = flate2::Crc::new();
        crc.update(&raw);
        let (method, body) = if deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(&raw).unwrap();
            (8u16, e.finish().unwrap())
        } else {
            (0u16, raw.clone())
        };
        let file_name = format!("{name}.npy");
        let offset = zip.len() as u32;
        let fields = |v: &mut Vec<u8>| {
            v.extend_from_slice(&method.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&(body.len() as u32).to_le_bytes());
            v.extend_from_slice(&(raw.len() as u32).to_le_bytes());
            v.extend_from_slice(&(file_name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        zip.extend_from_slice(&20u16.to_le_bytes()); // version needed
        zip.extend_from_slice(&0u16.to_le_bytes()); // flags
        fields(&mut zip);
        zip.extend_from_slice(file_name.as_bytes());
        zip.extend_from_slice(&body);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        central.extend_from_slice(&20u16.to_le_bytes()); // version needed
        central.extend_from_slice(&0u16.to_le_bytes()); // flags
        fields(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(file_name.as_bytes());
    }
    let cd_offset = zip.len() as u32;
    zip.extend_from_slice(&central);
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0; 4]); // disk numbers
    let n = arrays.len() as u16;
    zip.extend_from_slice(&n.to_le_bytes());
    zip.extend_from_slice(&n.to_le_bytes());
    zip.extend_from_slice(&(central.len() as u32).to_le_bytes());
    zip.extend_from_slice(&cd_offset.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes()); // comment length
    std::fs::write(path, zip).unwrap();
}
