//! A minimal reader for the safetensors format, enough for the test fixtures.
//!
//! Layout: an 8-byte little-endian u64 `N`, then `N` bytes of JSON mapping each tensor name to
//! `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the first byte after
//! the header), plus an optional `"__metadata__"` object of strings. Every tensor is read as
//! f32: F32 as is, F64 and F16 converted. Malformed input gives an error, never a panic.

use std::collections::BTreeMap;
use std::path::Path;

use vksplat_io::half::half_to_f32;

/// One tensor, converted to f32, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The dtype as stored in the file ("F32", "F64" or "F16").
    pub dtype: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// All tensors of one file, by name, and the optional metadata.
#[derive(Clone, Debug, Default)]
pub struct SafeTensors {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

impl SafeTensors {
    /// Reads and parses a file.
    pub fn read(path: impl AsRef<Path>) -> Result<SafeTensors, String> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        SafeTensors::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a whole file held in memory.
    pub fn parse(bytes: &[u8]) -> Result<SafeTensors, String> {
        let len_bytes: [u8; 8] =
            bytes
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    format!(
                        "file is {} bytes, shorter than the header length",
                        bytes.len()
                    )
                })?;
        let header_len = u64::from_le_bytes(len_bytes);
        let available = (bytes.len() - 8) as u64;
        if header_len > available {
            return Err(format!(
                "header length {header_len} exceeds the {available} bytes after it"
            ));
        }
        let header_end = 8 + header_len as usize;
        let header = std::str::from_utf8(&bytes[8..header_end])
            .map_err(|e| format!("header is not UTF-8: {e}"))?;
        let json: serde_json::Value =
            serde_json::from_str(header).map_err(|e| format!("header is not JSON: {e}"))?;
        let entries = json.as_object().ok_or("header is not a JSON object")?;
        let data = &bytes[header_end..];

        let mut out = SafeTensors::default();
        for (name, entry) in entries {
            if name == "__metadata__" {
                let meta = entry.as_object().ok_or("__metadata__ is not an object")?;
                for (k, v) in meta {
                    let v = v
                        .as_str()
                        .ok_or_else(|| format!("__metadata__[{k:?}] is not a string"))?;
                    out.metadata.insert(k.clone(), v.to_owned());
                }
                continue;
            }
            let tensor = parse_tensor(entry, data).map_err(|e| format!("tensor {name:?}: {e}"))?;
            out.tensors.insert(name.clone(), tensor);
        }
        Ok(out)
    }

    /// The tensor `name`, or an error naming it.
    pub fn get(&self, name: &str) -> Result<&Tensor, String> {
        self.tensors
            .get(name)
            .ok_or_else(|| format!("no tensor named {name:?}"))
    }

    /// The tensor `name`, checked to have exactly `shape`.
    pub fn get_shaped(&self, name: &str, shape: &[usize]) -> Result<&Tensor, String> {
        let t = self.get(name)?;
        if t.shape != shape {
            return Err(format!(
                "tensor {name:?} has shape {:?}, expected {shape:?}",
                t.shape
            ));
        }
        Ok(t)
    }
}

fn parse_tensor(entry: &serde_json::Value, data: &[u8]) -> Result<Tensor, String> {
    let obj = entry.as_object().ok_or("entry is not an object")?;
    let dtype = obj
        .get("dtype")
        .and_then(|v| v.as_str())
        .ok_or("missing or non-string \"dtype\"")?;
    let elem_size: usize = match dtype {
        "F32" => 4,
        "F64" => 8,
        "F16" => 2,
        other => return Err(format!("unsupported dtype {other:?}")),
    };
    let shape = obj
        .get("shape")
        .and_then(|v| v.as_array())
        .ok_or("missing or non-array \"shape\"")?
        .iter()
        .map(|d| {
            d.as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| format!("bad dimension {d}"))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let offsets = obj
        .get("data_offsets")
        .and_then(|v| v.as_array())
        .ok_or("missing or non-array \"data_offsets\"")?;
    let [begin, end] = offsets.as_slice() else {
        return Err(format!(
            "data_offsets has {} entries, expected 2",
            offsets.len()
        ));
    };
    let begin = begin
        .as_u64()
        .and_then(|v| usize::try_from(v).ok())
        .ok_or("bad begin offset")?;
    let end = end
        .as_u64()
        .and_then(|v| usize::try_from(v).ok())
        .ok_or("bad end offset")?;
    if begin > end || end > data.len() {
        return Err(format!(
            "data_offsets [{begin}, {end}] outside the {} data bytes",
            data.len()
        ));
    }
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("element count overflows")?;
    let want = count
        .checked_mul(elem_size)
        .ok_or("byte length overflows")?;
    if end - begin != want {
        return Err(format!(
            "{} bytes for shape {shape:?} of {dtype}, expected {want}",
            end - begin
        ));
    }
    let raw = &data[begin..end];
    let values: Vec<f32> = match elem_size {
        4 => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        8 => raw
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        _ => raw
            .chunks_exact(2)
            .map(|c| half_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
    };
    Ok(Tensor {
        dtype: dtype.to_owned(),
        shape,
        data: values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_f32_f64_f16_and_metadata() {
        let mut data = Vec::new();
        data.extend_from_slice(&1.5f32.to_le_bytes());
        data.extend_from_slice(&(-2.25f64).to_le_bytes());
        data.extend_from_slice(&0x3c00u16.to_le_bytes()); // 1.0
        let h = r#"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F64","shape":[],"data_offsets":[4,12]},"c":{"dtype":"F16","shape":[1,1],"data_offsets":[12,14]}}"#;
        let st = SafeTensors::parse(&file(h, &data)).unwrap();
        assert_eq!(st.get("a").unwrap().data, vec![1.5]);
        assert_eq!(st.get("b").unwrap().data, vec![-2.25]);
        assert_eq!(st.get("c").unwrap().data, vec![1.0]);
        assert_eq!(st.metadata["k"], "v");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(SafeTensors::parse(&[1, 2, 3]).is_err());
        assert!(SafeTensors::parse(&u64::MAX.to_le_bytes()).is_err());
        assert!(SafeTensors::parse(&file("not json", &[])).is_err());
        let oob = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        assert!(SafeTensors::parse(&file(oob, &[0; 4])).is_err());
        let wrong_len = r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
        assert!(SafeTensors::parse(&file(wrong_len, &[0; 8])).is_err());
        let reversed = r#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#;
        assert!(SafeTensors::parse(&file(reversed, &[0; 8])).is_err());
        let dtype = r#"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#;
        assert!(SafeTensors::parse(&file(dtype, &[0; 1])).is_err());
    }
}
