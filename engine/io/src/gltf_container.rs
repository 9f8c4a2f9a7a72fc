//! The glTF 2.0 container, once for the workspace: GLB chunks, buffers (GLB binary chunk,
//! `data:` URIs, files beside the document), buffer views and accessors read as f32, and the
//! writing side (GLB framing, base64 for `data:` URIs).
//!
//! Invariants:
//! * every index, offset, stride and length read from the JSON is checked against the bytes it
//!   points into before anything is read, so a hostile file gives an error, never a panic;
//! * nothing is sized by a count from the file unless the file's own bytes can hold it (an
//!   accessor without a buffer view, which the specification fills with zeros, has its count
//!   checked by the caller against a count that bytes did bound);
//! * an external buffer is a relative path inside the document's directory (no absolute path,
//!   no `..`, no URL scheme), read as a regular file with the rules of [`crate::input`].
//!
//! Errors are plain strings here; the caller adds the file name (an [`crate::IoError`]).

use std::ops::Range;
use std::path::{Component, Path};

use serde_json::Value;

/// GLB magic `glTF`.
pub const GLB_MAGIC: &[u8; 4] = b"glTF";
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// glTF component types.
pub const FLOAT: u32 = 5126;
pub const BYTE: u32 = 5120;
pub const UNSIGNED_BYTE: u32 = 5121;
pub const SHORT: u32 = 5122;
pub const UNSIGNED_SHORT: u32 = 5123;
pub const UNSIGNED_INT: u32 = 5125;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The JSON chunk and the optional BIN chunk of a GLB file.
pub fn split_glb(b: &[u8]) -> Result<(&[u8], Option<&[u8]>), String> {
    let (json, bin) = glb_chunks(b)?;
    Ok((&b[json], bin.map(|r| &b[r])))
}

/// Byte ranges of the JSON and BIN chunks of a GLB file.
fn glb_chunks(b: &[u8]) -> Result<(Range<usize>, Option<Range<usize>>), String> {
    if !b.starts_with(GLB_MAGIC) {
        return Err("GLB: no 'glTF' magic".into());
    }
    match u32_at(b, 4) {
        Some(2) => {}
        Some(v) => return Err(format!("GLB: container version {v}, only 2 is read")),
        None => return Err("GLB: truncated header".into()),
    }
    let total = u32_at(b, 8).ok_or("GLB: truncated header")? as usize;
    if total > b.len() {
        return Err(format!(
            "GLB: the header says {total} bytes, the file has {}",
            b.len()
        ));
    }
    let b = &b[..total];
    let (mut json, mut bin) = (None, None);
    let mut at = 12usize;
    while at + 8 <= b.len() {
        let len = u32_at(b, at).unwrap_or(0) as usize;
        let kind = u32_at(b, at + 4).unwrap_or(0);
        let start = at + 8;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= b.len())
            .ok_or_else(|| format!("GLB: chunk at byte {at} runs past the end of the file"))?;
        match kind {
            CHUNK_JSON if json.is_none() && at == 12 => json = Some(start..end),
            CHUNK_JSON => return Err("GLB: the JSON chunk must come first, once".into()),
            CHUNK_BIN if bin.is_none() => bin = Some(start..end),
            _ => {} // unknown chunks are skipped, as the specification says
        }
        at = end;
    }
    Ok((json.ok_or("GLB: no JSON chunk")?, bin))
}

/// The GLB header, JSON chunk and BIN chunk header for `json` and a binary chunk of
/// `bin_len` bytes: write the binary data and [`glb_padding`]`(bin_len)` zeros after it to
/// complete the file (so a large buffer is never copied into one GLB vector).
pub fn glb_prefix(json: &[u8], bin_len: usize) -> Result<Vec<u8>, String> {
    let jlen = json.len() + glb_padding(json.len());
    let blen = bin_len + glb_padding(bin_len);
    let total = 12 + 8 + jlen + if bin_len == 0 { 0 } else { 8 + blen };
    let total32 = u32::try_from(total)
        .map_err(|_| format!("{total} bytes do not fit a GLB file (at most 4 GiB)"))?;
    let mut out = Vec::with_capacity(28 + jlen);
    out.extend_from_slice(GLB_MAGIC);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&total32.to_le_bytes());
    out.extend_from_slice(&(jlen as u32).to_le_bytes());
    out.extend_from_slice(&CHUNK_JSON.to_le_bytes());
    out.extend_from_slice(json);
    out.resize(out.len() + glb_padding(json.len()), b' ');
    if bin_len > 0 {
        out.extend_from_slice(&(blen as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
    }
    Ok(out)
}

/// Bytes that pad a chunk of `n` bytes to a multiple of 4.
pub fn glb_padding(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// A GLB file of `json` (padded with spaces) and `bin` (padded with zeros, omitted when empty).
pub fn write_glb(json: &[u8], bin: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = glb_prefix(json, bin.len())?;
    let more = bin.len() + glb_padding(bin.len());
    crate::memory::reserve(&mut out, more).map_err(|e| format!("GLB: {e}"))?;
    out.extend_from_slice(bin);
    out.resize(out.len() + glb_padding(bin.len()), 0);
    Ok(out)
}

/// Standard base64 with padding (for `data:` URIs).
pub fn encode_base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let v = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(v >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decodes base64 (standard or URL alphabet; padding and whitespace ignored).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(s.len() / 4 * 3 + 3).ok()?;
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' | b' ' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// `%XX` escapes of a URI decoded to UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The bytes a buffer URI names: a base64 `data:` URI, or a file relative to `doc` (the glTF
/// file) inside its directory.
pub fn load_uri(doc: &Path, uri: &str) -> Result<Vec<u8>, String> {
    if let Some(rest) = uri.strip_prefix("data:") {
        let (_, payload) = rest
            .split_once(";base64,")
            .ok_or("the data URI is not base64")?;
        return decode_base64(payload).ok_or_else(|| "bad base64 in the data URI".into());
    }
    let relative = percent_decode(uri).ok_or_else(|| format!("bad URI '{uri}'"))?;
    let rel = Path::new(&relative);
    if uri.contains("://")
        || relative.is_empty()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "URI '{uri}' must be a relative path inside the glTF file's directory"
        ));
    }
    let file = doc.parent().unwrap_or(Path::new(".")).join(rel);
    crate::input::read_all(&file).map_err(|e| e.to_string())
}

/// Elements per accessor type.
pub fn components(kind: &str) -> Option<usize> {
    Some(match kind {
        "SCALAR" => 1,
        "VEC2" => 2,
        "VEC3" => 3,
        "VEC4" => 4,
        "MAT2" => 4,
        "MAT3" => 9,
        "MAT4" => 16,
        _ => return None,
    })
}

fn component_size(t: u32) -> Option<usize> {
    match t {
        BYTE | UNSIGNED_BYTE => Some(1),
        SHORT | UNSIGNED_SHORT => Some(2),
        UNSIGNED_INT | FLOAT => Some(4),
        _ => None,
    }
}

/// Name of a component type for messages.
pub fn component_name(t: u32, normalized: bool) -> String {
    let base = match t {
        BYTE => "signed byte",
        UNSIGNED_BYTE => "unsigned byte",
        SHORT => "signed short",
        UNSIGNED_SHORT => "unsigned short",
        UNSIGNED_INT => "unsigned int",
        FLOAT => "float",
        _ => return format!("component type {t}"),
    };
    if normalized {
        format!("{base} normalized")
    } else {
        base.to_string()
    }
}

/// A parsed glTF document: its JSON and its loaded buffers.
pub struct Document {
    /// The document's JSON.
    pub json: Value,
    buffers: Vec<Buffer>,
}

/// A loaded buffer, `data[range]`: a GLB's binary chunk may stay inside the file it came in.
struct Buffer {
    data: Vec<u8>,
    range: Range<usize>,
}

/// An accessor's description, checked against its buffer view.
#[derive(Clone, Copy, Debug)]
pub struct AccessorInfo {
    pub count: usize,
    pub components: usize,
    pub component_type: u32,
    pub normalized: bool,
    /// Whether it has a buffer view (without one its values are zeros).
    pub has_view: bool,
}

fn usize_field(v: &Value, key: &str) -> Result<Option<usize>, String> {
    match v.get(key) {
        None => Ok(None),
        Some(x) => x
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("\"{key}\" is not a non-negative integer")),
    }
}

impl Document {
    /// Parses a `.gltf` (JSON) or `.glb` held in `bytes`; external buffers are read relative
    /// to `path`. Checks the asset version (2.x). A GLB's binary chunk is copied; see
    /// [`Document::parse_owned`].
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Document, String> {
        Self::load(bytes, None, path)
    }

    /// [`Document::parse`] of a file it may keep: a GLB's binary chunk is used in place.
    pub fn parse_owned(bytes: Vec<u8>, path: &Path) -> Result<Document, String> {
        Self::load(&[], Some(bytes), path)
    }

    /// `owned` (when given) or `borrowed` holds the file.
    fn load(borrowed: &[u8], owned: Option<Vec<u8>>, path: &Path) -> Result<Document, String> {
        let all = owned.as_deref().unwrap_or(borrowed);
        let (json_range, bin) = if all.starts_with(GLB_MAGIC) {
            glb_chunks(all)?
        } else {
            (0..all.len(), None)
        };
        let json: Value =
            serde_json::from_slice(&all[json_range]).map_err(|e| format!("not glTF JSON: {e}"))?;
        let version = json
            .get("asset")
            .ok_or("not a glTF 2.0 file (no \"asset\" object)")?
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !version.starts_with("2.") {
            return Err(format!("glTF asset version '{version}': only 2.x is read"));
        }
        // Without an owned file (`parse`), `all` is `borrowed`: the chunk is copied from there.
        let bin_copy = |r: &Range<usize>| match borrowed.get(r.clone()) {
            Some(chunk) => crate::memory::copy_of(chunk).map_err(|e| e.to_string()),
            None => Err("the GLB binary chunk is not in the file".to_string()),
        };
        let mut owned = owned;
        let mut buffers = Vec::new();
        let list = json.get("buffers").and_then(Value::as_array);
        for (i, b) in list.into_iter().flatten().enumerate() {
            let what = |m: String| format!("buffer {i}: {m}");
            let byte_length = b
                .get("byteLength")
                .and_then(Value::as_u64)
                .ok_or_else(|| what("no byteLength".into()))?;
            let buffer = match (b.get("uri").and_then(Value::as_str), &bin) {
                (None, Some(r)) if i == 0 => match owned.take() {
                    Some(data) => Buffer {
                        data,
                        range: r.clone(),
                    },
                    None => {
                        let data = bin_copy(r).map_err(what)?;
                        let range = 0..data.len();
                        Buffer { data, range }
                    }
                },
                (None, _) => return Err(what("no uri and no GLB binary chunk".into())),
                (Some(uri), _) => {
                    let data = load_uri(path, uri).map_err(what)?;
                    let range = 0..data.len();
                    Buffer { data, range }
                }
            };
            if (buffer.range.len() as u64) < byte_length {
                return Err(what(format!(
                    "{} bytes, but its byteLength says {byte_length}",
                    buffer.range.len()
                )));
            }
            buffers.push(buffer);
        }
        Ok(Document { json, buffers })
    }

    /// The JSON array `key` (empty when absent).
    pub fn array(&self, key: &str) -> &[Value] {
        self.json
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// The bytes of buffer view `index` and its stride.
    pub fn view(&self, index: usize) -> Result<(&[u8], Option<usize>), String> {
        let v = self
            .array("bufferViews")
            .get(index)
            .ok_or_else(|| format!("bufferView {index} does not exist"))?;
        let bad = |m: String| format!("bufferView {index}: {m}");
        let buffer = usize_field(v, "buffer").map_err(bad)?.unwrap_or(usize::MAX);
        let buf = self
            .buffers
            .get(buffer)
            .map(|b| &b.data[b.range.clone()])
            .ok_or_else(|| bad(format!("buffer {buffer} does not exist")))?;
        let offset = usize_field(v, "byteOffset").map_err(bad)?.unwrap_or(0);
        let length = usize_field(v, "byteLength")
            .map_err(bad)?
            .ok_or_else(|| bad("no byteLength".into()))?;
        let stride = usize_field(v, "byteStride").map_err(bad)?;
        let end = offset
            .checked_add(length)
            .filter(|&e| e <= buf.len())
            .ok_or_else(|| {
                bad(format!(
                    "bytes {offset}+{length} run past its {}-byte buffer",
                    buf.len()
                ))
            })?;
        Ok((&buf[offset..end], stride))
    }

    /// Describes accessor `index`, checking that its view holds every element.
    pub fn accessor(&self, index: usize) -> Result<AccessorInfo, String> {
        let a = self
            .array("accessors")
            .get(index)
            .ok_or_else(|| format!("accessor {index} does not exist"))?;
        let bad = |m: String| format!("accessor {index}: {m}");
        if a.get("sparse").is_some() {
            return Err(bad("sparse accessors are not supported".into()));
        }
        let kind = a.get("type").and_then(Value::as_str).unwrap_or("");
        let comps = components(kind).ok_or_else(|| bad(format!("unknown type '{kind}'")))?;
        let ctype = a.get("componentType").and_then(Value::as_u64).unwrap_or(0) as u32;
        let size =
            component_size(ctype).ok_or_else(|| bad(format!("unknown component type {ctype}")))?;
        let normalized = a
            .get("normalized")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let count = usize_field(a, "count")
            .map_err(bad)?
            .ok_or_else(|| bad("no count".into()))?;
        let Some(view) = usize_field(a, "bufferView").map_err(bad)? else {
            return Ok(AccessorInfo {
                count,
                components: comps,
                component_type: ctype,
                normalized,
                has_view: false,
            });
        };
        let (bytes, stride) = self.view(view).map_err(bad)?;
        let elem = comps * size;
        let stride = stride.unwrap_or(elem);
        if stride < elem {
            return Err(bad(format!(
                "byteStride {stride} is smaller than an element ({elem} bytes)"
            )));
        }
        let offset = usize_field(a, "byteOffset").map_err(bad)?.unwrap_or(0);
        let need = if count == 0 {
            Some(0)
        } else {
            stride
                .checked_mul(count - 1)
                .and_then(|x| x.checked_add(offset))
                .and_then(|x| x.checked_add(elem))
        };
        match need {
            Some(n) if n <= bytes.len() => {}
            _ => {
                return Err(bad(format!(
                    "{count} elements of {elem} bytes (stride {stride}, offset {offset}) do \
                     not fit its {}-byte bufferView {view}",
                    bytes.len()
                )))
            }
        }
        Ok(AccessorInfo {
            count,
            components: comps,
            component_type: ctype,
            normalized,
            has_view: true,
        })
    }

    /// Calls `f(element index, values)` for every element of accessor `index`, converted to
    /// f32 as the glTF specification says for normalized integers (`max(c / MAX, -1)`); plain
    /// integers convert to their value. `count` must be the accessor's count (checked).
    pub fn for_each_f32(
        &self,
        index: usize,
        mut f: impl FnMut(usize, &[f32]),
    ) -> Result<AccessorInfo, String> {
        let info = self.accessor(index)?;
        let comps = info.components;
        let mut values = [0f32; 16];
        if !info.has_view {
            for e in 0..info.count {
                f(e, &values[..comps]);
            }
            return Ok(info);
        }
        let a = &self.array("accessors")[index];
        let view = usize_field(a, "bufferView")?.unwrap_or(0);
        let (bytes, stride) = self.view(view)?;
        let size = component_size(info.component_type).unwrap_or(4);
        let stride = stride.unwrap_or(comps * size);
        let offset = usize_field(a, "byteOffset")?.unwrap_or(0);
        let (t, norm) = (info.component_type, info.normalized);
        for e in 0..info.count {
            let base = offset + e * stride;
            for (c, v) in values[..comps].iter_mut().enumerate() {
                let o = base + c * size;
                let b = &bytes[o..o + size];
                *v = match (t, size) {
                    (FLOAT, _) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                    (BYTE, _) if norm => (f32::from(b[0] as i8) / 127.0).max(-1.0),
                    (BYTE, _) => f32::from(b[0] as i8),
                    (UNSIGNED_BYTE, _) if norm => f32::from(b[0]) / 255.0,
                    (UNSIGNED_BYTE, _) => f32::from(b[0]),
                    (SHORT, _) => {
                        let x = i16::from_le_bytes([b[0], b[1]]);
                        if norm {
                            (f32::from(x) / 32767.0).max(-1.0)
                        } else {
                            f32::from(x)
                        }
                    }
                    (UNSIGNED_SHORT, _) => {
                        let x = u16::from_le_bytes([b[0], b[1]]);
                        if norm {
                            f32::from(x) / 65535.0
                        } else {
                            f32::from(x)
                        }
                    }
                    _ => {
                        let x = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                        if norm {
                            (f64::from(x) / f64::from(u32::MAX)) as f32
                        } else {
                            x as f32
                        }
                    }
                };
            }
            f(e, &values[..comps]);
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for n in 0..20u8 {
            let b: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(5)).collect();
            let s = encode_base64(&b);
            assert_eq!(s.len() % 4, 0);
            assert_eq!(decode_base64(&s).unwrap(), b);
        }
        assert_eq!(encode_base64(b"Man"), "TWFu");
        assert_eq!(encode_base64(b"Ma"), "TWE=");
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert!(decode_base64("a*b").is_none());
        assert_eq!(percent_decode("a%20b.bin").unwrap(), "a b.bin");
        assert!(percent_decode("a%2").is_none());
    }

    #[test]
    fn glb_round_trips_and_rejects_broken_chunks() {
        let g = write_glb(br#"{"a":1}"#, &[1, 2, 3]).unwrap();
        assert_eq!(g.len() % 4, 0);
        let (j, b) = split_glb(&g).unwrap();
        assert_eq!(j, br#"{"a":1} "#);
        assert_eq!(b.unwrap(), &[1, 2, 3, 0]);
        let mut bad = g.clone();
        bad[12..16].copy_from_slice(&1000u32.to_le_bytes());
        assert!(split_glb(&bad).unwrap_err().contains("runs past"));
        assert!(split_glb(&g[..10]).is_err());
        let mut v1 = g.clone();
        v1[4] = 1;
        assert!(split_glb(&v1).unwrap_err().contains("version 1"));
    }

    #[test]
    fn accessors_are_bounded_by_their_views() {
        let bin: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .chain([0u8, 127, 128, 255])
            .collect();
        let json = serde_json::json!({
            "asset": {"version": "2.0"},
            "buffers": [{"byteLength": 28, "uri": format!("data:application/octet-stream;base64,{}", encode_base64(&bin))}],
            "bufferViews": [{"buffer": 0, "byteLength": 24}, {"buffer": 0, "byteOffset": 24, "byteLength": 4}],
            "accessors": [
                {"bufferView": 0, "componentType": 5126, "count": 2, "type": "VEC3"},
                {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                {"bufferView": 1, "componentType": 5120, "normalized": true, "count": 1, "type": "VEC4"},
                {"componentType": 5126, "count": 2, "type": "SCALAR"}
            ]
        });
        let doc = Document::parse(json.to_string().as_bytes(), Path::new("x.gltf")).unwrap();
        let mut got = Vec::new();
        doc.for_each_f32(0, |_, v| got.extend_from_slice(v))
            .unwrap();
        assert_eq!(got, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(doc.accessor(1).unwrap_err().contains("do not fit"));
        let mut got = Vec::new();
        doc.for_each_f32(2, |_, v| got.extend_from_slice(v))
            .unwrap();
        assert_eq!(got, [0.0, 1.0, -1.0, -1.0 / 127.0]);
        let info = doc.for_each_f32(3, |_, v| assert_eq!(v, [0.0])).unwrap();
        assert!(!info.has_view);
        assert!(doc.accessor(9).is_err());
        assert!(load_uri(Path::new("x.gltf"), "../etc/passwd").is_err());
        assert!(load_uri(Path::new("x.gltf"), "/etc/passwd").is_err());
        assert!(load_uri(Path::new("x.gltf"), "http://a/b").is_err());
    }
}
