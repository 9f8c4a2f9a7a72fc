//! PyTorch checkpoints (`.pt`/`.pth`) in the zip format `torch.save` writes since torch 1.6:
//! `<archive>/data.pkl` (the pickled object), `<archive>/data/<key>` (one raw storage per key),
//! `<archive>/version` and, since torch 2.1, `<archive>/byteorder`.
//!
//! The pickle is run by a small stack machine that never executes anything: `GLOBAL` and
//! `STACK_GLOBAL` only name classes, and `REDUCE`/`NEWOBJ`/`BUILD` on them build
//! [`Value`]s. A few calls are understood: `torch._utils._rebuild_tensor_v2` (and `_rebuild_tensor`)
//! makes a [`Value::Tensor`] from a storage, offset, size and stride;
//! `torch._utils._rebuild_parameter` (with or without state) is its tensor;
//! `collections.OrderedDict` is a [`Value::Dict`], `torch.Size` a tuple, `set` a list. Any other
//! class becomes a [`Value::Object`] whose arguments and `BUILD` state stay walkable (a
//! GaMeS `MeshPointCloud`, say). Persistent ids `('storage', torch.<T>Storage, key, location,
//! numel)` name the storages; their bytes are read only when a tensor is asked for
//! ([`Checkpoint::tensor`]), and only the span the tensor covers.
//!
//! Supported: pickle protocols 0–5 (the opcodes torch and Python containers use; the
//! extension registry and out-of-band buffers are refused); storages of `f32 f64 f16 bf16
//! i64 i32 i16 i8 u8 bool`, read as `f32` (floating types) or `i64` (the others);
//! any strides and storage offsets inside the storage; little-endian files only (`byteorder`
//! `big` is refused). Legacy (pre-1.6) checkpoints and TorchScript archives are refused with
//! what to do instead.
//!
//! Invariants:
//! * nothing is allocated from an unchecked count: `data.pkl` is at most [`MAX_PICKLE`]
//!   bytes, the machine holds at most [`MAX_OBJECTS`] values, a storage's declared size must
//!   equal its entry's size, a tensor's last element must lie inside its storage, and a tensor
//!   repeats storage elements (stride 0) to at most [`MAX_EXPANDED`] elements; buffers are
//!   allocated fallibly ([`crate::memory`]);
//! * shared references in the pickle (memo) are expanded into the value tree with a budget
//!   of [`MAX_OBJECTS`] nodes and a nesting depth of [`MAX_DEPTH`], so a self-referencing
//!   or exponentially shared pickle is an error, not a hang;
//! * every error is an [`IoError::Input`] naming the file (and the entry or value path).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::numpy::{entry_start, read_directory, read_entry, Entry};
use crate::IoError;

/// Largest `data.pkl` read (a checkpoint's pickle holds names and small numbers; the tensors
/// live in their own entries).
pub const MAX_PICKLE: u64 = 64 << 20;
/// Most values the pickle machine holds (stack, memo and containers together), and most
/// nodes of the value tree.
pub const MAX_OBJECTS: usize = 1 << 20;
/// Deepest nesting of the value tree.
pub const MAX_DEPTH: usize = 256;
/// Most elements a tensor may have beyond its storage's (strides of 0 repeat elements).
pub const MAX_EXPANDED: u64 = 1 << 24;

/// The element type of a storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    /// The dtype of a storage class (`torch.FloatStorage`, …).
    fn of_storage(name: &str) -> Option<DType> {
        Some(match name {
            "FloatStorage" => DType::F32,
            "DoubleStorage" => DType::F64,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ShortStorage" => DType::I16,
            "CharStorage" => DType::I8,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// Whether values are read as `f32` (else `i64`).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64 | DType::F16 | DType::BF16)
    }

    /// torch's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::I16 => "int16",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::Bool => "bool",
        }
    }

    fn float(self, b: &[u8]) -> f32 {
        match self {
            DType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            DType::F64 => f64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as f32,
            DType::F16 => crate::half::half_to_f32(u16::from_le_bytes([b[0], b[1]])),
            // bfloat16 is the high half of an f32.
            DType::BF16 => f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16),
            _ => self.int(b) as f32,
        }
    }

    fn int(self, b: &[u8]) -> i64 {
        match self {
            DType::I64 => i64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
            DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            DType::I16 => i16::from_le_bytes([b[0], b[1]]) as i64,
            DType::I8 => b[0] as i8 as i64,
            DType::U8 => b[0] as i64,
            DType::Bool => (b[0] != 0) as i64,
            _ => self.float(b) as i64,
        }
    }
}

/// A storage named by the pickle: its zip entry key, dtype and element count.
#[derive(Clone, Debug, PartialEq)]
pub struct Storage {
    pub key: String,
    pub dtype: DType,
    pub numel: u64,
}

/// A tensor as the pickle describes it (no values yet): storage index into
/// [`Checkpoint::storages`], element offset, shape and strides (in elements).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRef {
    pub storage: usize,
    pub dtype: DType,
    pub offset: u64,
    pub shape: Vec<usize>,
    pub stride: Vec<u64>,
}

impl TensorRef {
    /// The number of elements.
    pub fn numel(&self) -> u64 {
        self.shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            .unwrap_or(u64::MAX)
    }
}

/// A tensor's values, converted.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// Floating dtypes.
    F32(Vec<f32>),
    /// Integer and bool dtypes.
    I64(Vec<i64>),
}

/// A tensor read from a checkpoint, C order (the last index varies fastest).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    /// The stored dtype.
    pub dtype: DType,
    pub data: TensorData,
}

impl Tensor {
    /// The number of elements.
    pub fn numel(&self) -> usize {
        match &self.data {
            TensorData::F32(v) => v.len(),
            TensorData::I64(v) => v.len(),
        }
    }

    /// The values as `f32` (integers converted; above 2²⁴ they round).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The values of an integer tensor, `None` for a floating one.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            TensorData::I64(v) => Some(v),
            TensorData::F32(_) => None,
        }
    }

    /// The values of a floating tensor, `None` for an integer one.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            TensorData::I64(_) => None,
        }
    }

    /// Whether the shape matches `want` (`None` = any size in that dimension).
    pub fn has_shape(&self, want: &[Option<usize>]) -> bool {
        self.shape.len() == want.len()
            && self
                .shape
                .iter()
                .zip(want)
                .all(|(&d, w)| w.is_none_or(|w| w == d))
    }
}

/// An unpickled value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer that does not fit in 64 bits (little-endian two's complement bytes).
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Keys and values in insertion order.
    Dict(Vec<(Value, Value)>),
    Tensor(TensorRef),
    /// A bare storage (index into [`Checkpoint::storages`]).
    Storage(usize),
    /// A class or function named by the pickle and never called: `module.name`.
    Global(String),
    /// An instance of a class this reader does not model: its class, constructor arguments,
    /// `BUILD` state (usually a dict of attributes) and items set on it.
    Object {
        class: String,
        args: Vec<Value>,
        state: Option<Box<Value>>,
        items: Vec<(Value, Value)>,
    },
}

impl Value {
    /// A dict's value under the string key `key` (an object's state dict counts).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries()?
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, v)| v)
    }

    /// The key/value pairs of a dict, or of an object's state dict or items.
    pub fn entries(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(e) => Some(e),
            Value::Object { state, items, .. } => match state.as_deref() {
                Some(Value::Dict(e)) => Some(e),
                _ if !items.is_empty() => Some(items),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value at a dotted path: `state_dict._points`, `layers.0.weight`. Dict keys may
    /// contain dots themselves (`state_dict` keys like `encoder.weight`): the longest key that
    /// matches wins. A number indexes a list or tuple.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        if path.is_empty() {
            return Some(self);
        }
        if let Some(entries) = self.entries() {
            let mut best: Option<(&str, &Value)> = None;
            for (k, v) in entries {
                let Value::Str(k) = k else { continue };
                let fits = path == k
                    || (path.starts_with(k.as_str())
                        && path.as_bytes().get(k.len()) == Some(&b'.'));
                if fits && best.is_none_or(|(b, _)| k.len() > b.len()) {
                    best = Some((k, v));
                }
            }
            let (k, v) = best?;
            return v.get_path(path.get(k.len() + 1..).unwrap_or(""));
        }
        match self {
            Value::List(items) | Value::Tuple(items) => {
                let (head, rest) = path.split_once('.').unwrap_or((path, ""));
                items.get(head.parse::<usize>().ok()?)?.get_path(rest)
            }
            _ => None,
        }
    }

    /// A short description for messages: `a tensor [3, 4] float32`, `a dict of 5 entries`.
    pub fn describe(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(b) => format!("the bool {b}"),
            Value::Int(i) => format!("the int {i}"),
            Value::BigInt(_) => "a big int".into(),
            Value::Float(f) => format!("the float {f}"),
            Value::Str(_) => "a string".into(),
            Value::Bytes(b) => format!("{} bytes", b.len()),
            Value::List(l) => format!("a list of {}", l.len()),
            Value::Tuple(l) => format!("a tuple of {}", l.len()),
            Value::Dict(d) => format!("a dict of {} entries", d.len()),
            Value::Tensor(t) => format!("a tensor {:?} {}", t.shape, t.dtype.name()),
            Value::Storage(_) => "a storage".into(),
            Value::Global(g) => format!("the global {g}"),
            Value::Object { class, .. } => format!("a {class} object"),
        }
    }
}

/// Where the archive's bytes are.
enum Source {
    File(File),
    Bytes(std::io::Cursor<Vec<u8>>),
}

impl Source {
    fn reader(&mut self) -> &mut dyn ReadSeek {
        match self {
            Source::File(f) => f,
            Source::Bytes(c) => c,
        }
    }
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// An open checkpoint: its value tree and the storages its tensors refer to.
pub struct Checkpoint {
    path: PathBuf,
    source: std::cell::RefCell<Source>,
    len: u64,
    entries: Vec<Entry>,
    /// The archive's top folder, with its trailing `/`.
    prefix: String,
    /// The storages named by the pickle, indexed by [`TensorRef::storage`].
    pub storages: Vec<Storage>,
    /// The unpickled object.
    pub root: Value,
}

/// Opens a checkpoint file (see [`Checkpoint::open`]).
pub fn load(path: &Path) -> Result<Checkpoint, IoError> {
    Checkpoint::open(path)
}

/// Whether `head` (a file's first bytes) starts like a zip archive.
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

impl Checkpoint {
    /// Opens a checkpoint: reads the zip directory and runs the pickle (no tensor is read yet).
    pub fn open(path: &Path) -> Result<Checkpoint, IoError> {
        let (file, len) = crate::input::open(path)?;
        Self::from_source(path, Source::File(file), len)
    }

    /// A checkpoint held in memory (`path` names it in messages).
    pub fn parse(bytes: Vec<u8>, path: &Path) -> Result<Checkpoint, IoError> {
        let len = bytes.len() as u64;
        Self::from_source(path, Source::Bytes(std::io::Cursor::new(bytes)), len)
    }

    fn from_source(path: &Path, mut source: Source, len: u64) -> Result<Checkpoint, IoError> {
        let fail = |m: String| IoError::input(path, m);
        let r = source.reader();
        let mut head = [0u8; 4];
        let n = r
            .seek(SeekFrom::Start(0))
            .and_then(|_| read_up_to(r, &mut head))
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if !looks_like_zip(&head[..n]) {
            return Err(fail(if head[..n].first() == Some(&0x80) {
                "a legacy (pre-1.6) PyTorch checkpoint: re-save it with torch >= 1.6 \
                 (torch.save(torch.load(f), f) writes the zip format this reader reads)"
                    .into()
            } else {
                "not a PyTorch checkpoint: a .pt/.pth file is a zip archive (torch >= 1.6)".into()
            }));
        }
        let entries = read_directory(r, len).map_err(|m| fail(m.replace("npz (zip)", "zip")))?;
        let pkl = entries
            .iter()
            .find(|e| e.name.ends_with("/data.pkl") && !e.name[..e.name.len() - 9].contains('/'))
            .ok_or_else(|| {
                let torchscript = entries.iter().any(|e| e.name.ends_with("/constants.pkl"));
                fail(if torchscript {
                    "a TorchScript archive (torch.jit.save), not a checkpoint: save the \
                     state with torch.save instead"
                        .into()
                } else {
                    "a zip archive without <archive>/data.pkl: not a PyTorch checkpoint".into()
                })
            })?;
        let prefix = pkl.name[..pkl.name.len() - 8].to_string();
        if let Some(order) = entries
            .iter()
            .find(|e| e.name == format!("{prefix}byteorder"))
        {
            let bytes =
                read_entry(r, len, order, 16).map_err(|m| fail(format!("byteorder: {m}")))?;
            match bytes.as_slice() {
                b"little" => {}
                b"big" => {
                    return Err(fail(
                        "a big-endian checkpoint (byteorder 'big'): only little-endian files \
                         are read; re-save it on a little-endian machine"
                            .into(),
                    ))
                }
                other => {
                    return Err(fail(format!(
                        "byteorder entry is '{}', expected 'little'",
                        String::from_utf8_lossy(other)
                    )))
                }
            }
        }
        let pickle =
            read_entry(r, len, pkl, MAX_PICKLE).map_err(|m| fail(format!("{}: {m}", pkl.name)))?;
        let mut vm = Machine::default();
        let top = vm
            .run(&pickle)
            .map_err(|m| fail(format!("{}: {m}", pkl.name)))?;
        let mut budget = MAX_OBJECTS;
        let root = vm
            .export(&top, 0, &mut budget)
            .map_err(|m| fail(format!("{}: {m}", pkl.name)))?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            source: std::cell::RefCell::new(source),
            len,
            entries,
            prefix,
            storages: vm.storages,
            root,
        })
    }

    /// The checkpoint's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value at a dotted path (see [`Value::get_path`]).
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        self.root.get_path(path)
    }

    /// Reads the tensor at a dotted path: a missing path, or a value that is not a tensor, is
    /// an error naming the path.
    pub fn tensor(&self, path: &str) -> Result<Tensor, IoError> {
        match self.get_path(path) {
            Some(Value::Tensor(t)) => self
                .read_tensor(t)
                .map_err(|m| IoError::input(&self.path, format!("tensor '{path}': {m}"))),
            Some(v) => Err(IoError::input(
                &self.path,
                format!("'{path}' is {}, not a tensor", v.describe()),
            )),
            None => Err(IoError::input(
                &self.path,
                format!("has no '{path}'{}", self.keys_hint(path)),
            )),
        }
    }

    /// Reads the tensor at `path` and checks its shape against `want` (`None` = any size).
    pub fn tensor_shaped(&self, path: &str, want: &[Option<usize>]) -> Result<Tensor, IoError> {
        let t = self.tensor(path)?;
        if !t.has_shape(want) {
            return Err(IoError::input(
                &self.path,
                format!(
                    "tensor '{path}' has shape {}, expected {}",
                    crate::numpy::shape_text(t.shape.iter().map(|&d| Some(d))),
                    crate::numpy::shape_text(want.iter().copied())
                ),
            ));
        }
        Ok(t)
    }

    /// " (it has: a, b, c)" for the dict the path's parent names, for messages.
    fn keys_hint(&self, path: &str) -> String {
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        let Some(entries) = self.get_path(parent).and_then(Value::entries) else {
            return String::new();
        };
        let mut keys: Vec<&str> = entries
            .iter()
            .filter_map(|(k, _)| match k {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .take(40)
            .collect();
        keys.sort_unstable();
        format!(" (it has: {})", keys.join(", "))
    }

    /// Reads a tensor's values (error messages without the file; [`Checkpoint::tensor`] adds it).
    pub fn read_tensor(&self, t: &TensorRef) -> Result<Tensor, String> {
        let storage = self
            .storages
            .get(t.storage)
            .ok_or("refers to a storage the pickle does not name")?;
        if storage.dtype != t.dtype {
            return Err("its dtype differs from its storage's".into());
        }
        let name = format!("{}data/{}", self.prefix, storage.key);
        let entry = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| format!("its storage entry '{name}' is missing"))?;
        let es = storage.dtype.size() as u64;
        if storage.numel.checked_mul(es) != Some(entry.size()) {
            return Err(format!(
                "storage '{}' declares {} {} elements but its entry holds {} bytes",
                storage.key,
                storage.numel,
                storage.dtype.name(),
                entry.size()
            ));
        }
        if t.stride.len() != t.shape.len() {
            return Err(format!(
                "{} sizes but {} strides",
                t.shape.len(),
                t.stride.len()
            ));
        }
        let numel = t.numel();
        // The span [first, last] of storage elements the tensor covers.
        let mut last = t.offset;
        if numel > 0 {
            for (&d, &s) in t.shape.iter().zip(&t.stride) {
                last = (d as u64 - 1)
                    .checked_mul(s)
                    .and_then(|x| x.checked_add(last))
                    .ok_or("its strides overflow")?;
            }
            if last >= storage.numel {
                return Err(format!(
                    "shape {:?}, strides {:?} and offset {} reach element {last} of a storage \
                     of {} elements",
                    t.shape, t.stride, t.offset, storage.numel
                ));
            }
            if numel > storage.numel.max(1) + MAX_EXPANDED {
                return Err(format!(
                    "{numel} elements from a storage of {}: more repetition (stride 0) than the \
                     {MAX_EXPANDED} extra elements read",
                    storage.numel
                ));
            }
        }
        let count = usize::try_from(numel).map_err(|_| "too many elements")?;
        let span_len = if numel == 0 { 0 } else { last - t.offset + 1 };
        let bytes = {
            let mut source = self.source.borrow_mut();
            let r = source.reader();
            if !entry.is_stored() {
                // torch stores storages uncompressed (so they can be mapped); a compressed one
                // would have to be inflated whole, with a size only the pickle vouches for.
                return Err(format!(
                    "storage entry '{name}' is compressed: re-save with torch.save (storages are \
                     stored uncompressed)"
                ));
            }
            let start = entry_start(r, self.len, entry)?;
            let mut buf =
                crate::memory::zeroed::<u8>((span_len * es) as usize).map_err(|e| e.to_string())?;
            r.seek(SeekFrom::Start(start + t.offset * es))
                .and_then(|_| r.read_exact(&mut buf))
                .map_err(|e| format!("cannot read storage '{}': {e}", storage.key))?;
            buf
        };
        // Element offsets (relative to the span) of the tensor, in C order.
        let es = es as usize;
        let contiguous = {
            let mut want = 1u64;
            t.shape.iter().zip(&t.stride).rev().all(|(&d, &s)| {
                let ok = d <= 1 || s == want;
                want = want.saturating_mul(d as u64);
                ok
            })
        };
        let mut index = vec![0usize; t.shape.len()];
        let mut at = |k: usize| -> usize {
            if contiguous {
                return k * es;
            }
            if k > 0 {
                // Advance the multi-index like an odometer.
                for dim in (0..index.len()).rev() {
                    index[dim] += 1;
                    if index[dim] < t.shape[dim] {
                        break;
                    }
                    index[dim] = 0;
                }
            }
            let off: u64 = index
                .iter()
                .zip(&t.stride)
                .map(|(&i, &s)| i as u64 * s)
                .sum();
            off as usize * es
        };
        let data = if t.dtype.is_float() {
            let mut v = crate::memory::with_capacity::<f32>(count).map_err(|e| e.to_string())?;
            for k in 0..count {
                let o = at(k);
                v.push(t.dtype.float(&bytes[o..o + es]));
            }
            TensorData::F32(v)
        } else {
            let mut v = crate::memory::with_capacity::<i64>(count).map_err(|e| e.to_string())?;
            for k in 0..count {
                let o = at(k);
                v.push(t.dtype.int(&bytes[o..o + es]));
            }
            TensorData::I64(v)
        };
        Ok(Tensor {
            shape: t.shape.clone(),
            dtype: t.dtype,
            data,
        })
    }

    /// Every tensor of the checkpoint with its dotted path, in pickle order (for `info`-like
    /// listings and tests).
    pub fn tensor_paths(&self) -> Vec<(String, &TensorRef)> {
        fn walk<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a TensorRef)>) {
            let join = |k: &str| {
                if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                }
            };
            match v {
                Value::Tensor(t) => out.push((path, t)),
                Value::List(items) | Value::Tuple(items) => {
                    for (i, x) in items.iter().enumerate() {
                        walk(x, join(&i.to_string()), out);
                    }
                }
                _ => {
                    if let Some(entries) = v.entries() {
                        for (k, x) in entries {
                            let key = match k {
                                Value::Str(s) => s.clone(),
                                Value::Int(i) => i.to_string(),
                                _ => continue,
                            };
                            walk(x, join(&key), out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, String::new(), &mut out);
        out
    }
}

fn read_up_to(r: &mut dyn ReadSeek, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// The pickle machine.

/// A value on the machine's stack or in its memo: scalars inline, containers by heap index
/// (Python objects are shared by reference, and mutated after they are memoised).
#[derive(Clone, Debug)]
enum V {
    None,
    Bool(bool),
    Int(i64),
    BigInt(Rc<[u8]>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Global(Rc<str>),
    Ref(usize),
}

#[derive(Debug)]
enum H {
    List(Vec<V>),
    Tuple(Vec<V>),
    Dict(Vec<(V, V)>),
    Tensor(TensorRef),
    Storage(usize),
    Object {
        class: Rc<str>,
        args: Vec<V>,
        state: Option<V>,
        items: Vec<(V, V)>,
    },
}

#[derive(Default)]
struct Machine {
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: HashMap<u64, V>,
    heap: Vec<H>,
    storages: Vec<Storage>,
    /// Storage key → index in `storages` (torch shares one storage between views).
    storage_keys: HashMap<String, usize>,
    /// Values held: pushes plus container insertions, bounded by [`MAX_OBJECTS`].
    held: usize,
}

/// A cursor over the pickle bytes.
struct Bytes<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| {
                format!(
                    "truncated: an opcode at byte {} needs {n} more bytes",
                    self.at
                )
            })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn len_u64(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| format!("a length of {n} bytes"))
    }
    /// A text line (protocol 0 arguments), without its newline.
    fn line(&mut self) -> Result<&'a str, String> {
        let rest = &self.b[self.at..];
        let n = rest
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("truncated: a text argument has no end of line")?;
        self.at += n + 1;
        std::str::from_utf8(&rest[..n]).map_err(|_| "a text argument is not UTF-8".into())
    }
}

/// Little-endian two's complement bytes as i64, or None when they do not fit.
fn long_of(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return Some(0);
    }
    let negative = b[b.len() - 1] & 0x80 != 0;
    let fill = if negative { 0xff } else { 0 };
    if b.len() > 8 && b[8..].iter().any(|&x| x != fill) {
        return None;
    }
    let mut w = [fill; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    let v = i64::from_le_bytes(w);
    // The sign of the 8-byte value must match the sign of the whole number.
    ((v < 0) == negative).then_some(v)
}

/// The characters of a protocol-0 quoted string literal (`'abc'` or `"abc"`), escapes
/// dropped to their character (only names and keys appear in such literals).
fn unquote(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b[b.len() - 1] || !matches!(b[0], b'\'' | b'"') {
        return Err("a STRING argument is not quoted".into());
    }
    Ok(s[1..s.len() - 1].replace("\\'", "'").replace("\\\\", "\\"))
}

impl Machine {
    fn hold(&mut self, n: usize) -> Result<(), String> {
        self.held = self.held.saturating_add(n);
        if self.held > MAX_OBJECTS {
            return Err(format!(
                "more than {MAX_OBJECTS} values: too large or hostile for a checkpoint"
            ));
        }
        Ok(())
    }

    fn push(&mut self, v: V) -> Result<(), String> {
        self.hold(1)?;
        self.stack.push(v);
        Ok(())
    }

    fn alloc(&mut self, h: H) -> Result<V, String> {
        self.hold(1)?;
        self.heap.push(h);
        Ok(V::Ref(self.heap.len() - 1))
    }

    fn pop(&mut self) -> Result<V, String> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err("an opcode pops from an empty stack".into());
        }
        Ok(self.stack.pop().expect("checked non-empty"))
    }

    fn top(&mut self) -> Result<&V, String> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err("an opcode reads an empty stack".into());
        }
        Ok(self.stack.last().expect("checked non-empty"))
    }

    /// Pops everything above the last mark, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<V>, String> {
        let m = self
            .marks
            .pop()
            .ok_or("an opcode needs a MARK that is not there")?;
        Ok(self.stack.split_off(m))
    }

    fn str_of(&self, v: &V) -> Option<Rc<str>> {
        match v {
            V::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn tuple(&self, v: &V) -> Option<&[V]> {
        match v {
            V::Ref(i) => match &self.heap[*i] {
                H::Tuple(t) | H::List(t) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }

    fn int(v: &V) -> Option<i64> {
        match v {
            V::Int(i) => Some(*i),
            V::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    fn run(&mut self, pickle: &[u8]) -> Result<V, String> {
        let mut r = Bytes { b: pickle, at: 0 };
        loop {
            let at = r.at;
            let op = r
                .u8()
                .map_err(|_| "truncated: no STOP opcode".to_string())?;
            self.step(op, &mut r)
                .map_err(|m| format!("opcode 0x{op:02x} at byte {at}: {m}"))?;
            if op == b'.' {
                let v = self
                    .pop()
                    .map_err(|_| "STOP with an empty stack".to_string())?;
                return Ok(v);
            }
        }
    }

    fn step(&mut self, op: u8, r: &mut Bytes) -> Result<(), String> {
        match op {
            0x80 => {
                let p = r.u8()?;
                if p > 5 {
                    return Err(format!("pickle protocol {p} (0..5 are read)"));
                }
            }
            0x95 => {
                r.u64()?; // FRAME: a length hint only.
            }
            b'.' => {}
            // Constants and numbers.
            b'N' => self.push(V::None)?,
            0x88 => self.push(V::Bool(true))?,
            0x89 => self.push(V::Bool(false))?,
            b'J' => {
                let v = r.u32()? as i32 as i64;
                self.push(V::Int(v))?
            }
            b'K' => {
                let v = r.u8()? as i64;
                self.push(V::Int(v))?
            }
            b'M' => {
                let v = r.u16()? as i64;
                self.push(V::Int(v))?
            }
            0x8a | 0x8b => {
                let n = if op == 0x8a {
                    r.u8()? as usize
                } else {
                    let n = r.u32()? as i32;
                    usize::try_from(n).map_err(|_| "a negative LONG4 length".to_string())?
                };
                let b = r.take(n)?;
                let v = match long_of(b) {
                    Some(i) => V::Int(i),
                    None => V::BigInt(b.into()),
                };
                self.push(v)?
            }
            b'I' => {
                let s = r.line()?;
                let v = match s {
                    "01" => V::Bool(true),
                    "00" => V::Bool(false),
                    _ => V::Int(s.trim().parse().map_err(|_| format!("INT '{s}'"))?),
                };
                self.push(v)?
            }
            b'L' => {
                let s = r.line()?;
                let t = s.trim_end_matches('L');
                let v = t.parse().map_err(|_| format!("LONG '{s}'"))?;
                self.push(V::Int(v))?
            }
            b'G' => {
                let v = f64::from_be_bytes(r.take(8)?.try_into().expect("8 bytes"));
                self.push(V::Float(v))?
            }
            b'F' => {
                let s = r.line()?;
                let v = s.trim().parse().map_err(|_| format!("FLOAT '{s}'"))?;
                self.push(V::Float(v))?
            }
            // Strings and bytes.
            b'X' | 0x8c | 0x8d | b'T' | b'U' => {
                let n = match op {
                    b'X' | b'T' => r.u32()? as usize,
                    0x8d => r.len_u64()?,
                    _ => r.u8()? as usize,
                };
                let b = r.take(n)?;
                let s: Rc<str> = if matches!(op, b'T' | b'U') {
                    // Python 2 byte strings: names and keys, Latin-1 in practice.
                    String::from_utf8_lossy(b).into()
                } else {
                    std::str::from_utf8(b)
                        .map_err(|_| "a string is not UTF-8".to_string())?
                        .into()
                };
                self.push(V::Str(s))?
            }
            b'V' => {
                let s = r.line()?;
                self.push(V::Str(s.into()))?
            }
            b'S' => {
                let s = unquote(r.line()?)?;
                self.push(V::Str(s.into()))?
            }
            b'B' | b'C' | 0x8e | 0x96 => {
                let n = match op {
                    b'B' => r.u32()? as usize,
                    b'C' => r.u8()? as usize,
                    _ => r.len_u64()?,
                };
                let b = r.take(n)?;
                self.push(V::Bytes(b.into()))?
            }
            // Containers.
            b'}' => {
                let v = self.alloc(H::Dict(Vec::new()))?;
                self.push(v)?
            }
            b']' => {
                let v = self.alloc(H::List(Vec::new()))?;
                self.push(v)?
            }
            b')' => {
                let v = self.alloc(H::Tuple(Vec::new()))?;
                self.push(v)?
            }
            0x8f => {
                let v = self.alloc(H::List(Vec::new()))?;
                self.push(v)?
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() < floor + n {
                    return Err("TUPLE with too few items on the stack".into());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let v = self.alloc(H::Tuple(items))?;
                self.push(v)?
            }
            b't' | b'l' | 0x91 => {
                let items = self.pop_mark()?;
                let h = if op == b't' {
                    H::Tuple(items)
                } else {
                    H::List(items)
                };
                let v = self.alloc(h)?;
                self.push(v)?
            }
            b'd' => {
                let items = self.pop_mark()?;
                let v = self.alloc(H::Dict(pairs(items)?))?;
                self.push(v)?
            }
            b'a' => {
                let x = self.pop()?;
                let target = self.top()?.clone();
                self.append(&target, vec![x])?
            }
            b'e' | 0x90 => {
                let items = self.pop_mark()?;
                let target = self.top()?.clone();
                self.hold(items.len())?;
                self.append(&target, items)?
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?.clone();
                self.set_items(&target, vec![(k, v)])?
            }
            b'u' => {
                let items = self.pop_mark()?;
                let target = self.top()?.clone();
                self.hold(items.len())?;
                self.set_items(&target, pairs(items)?)?
            }
            // Stack and memo.
            b'(' => {
                self.hold(1)?;
                self.marks.push(self.stack.len())
            }
            b'0' => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.push(v)?
            }
            b'p' | b'q' | b'r' | 0x94 => {
                let key = match op {
                    b'p' => r
                        .line()?
                        .trim()
                        .parse()
                        .map_err(|_| "PUT with a bad index".to_string())?,
                    b'q' => r.u8()? as u64,
                    b'r' => r.u32()? as u64,
                    _ => self.memo.len() as u64,
                };
                let v = self.top()?.clone();
                self.hold(1)?;
                self.memo.insert(key, v);
            }
            b'g' | b'h' | b'j' => {
                let key: u64 = match op {
                    b'g' => r
                        .line()?
                        .trim()
                        .parse()
                        .map_err(|_| "GET with a bad index".to_string())?,
                    b'h' => r.u8()? as u64,
                    _ => r.u32()? as u64,
                };
                let v = self
                    .memo
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| format!("memo entry {key} was never stored"))?;
                self.push(v)?
            }
            // Classes and objects: named, never executed.
            b'c' => {
                let module = r.line()?;
                let name = r.line()?;
                self.push(V::Global(format!("{module}.{name}").into()))?
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (self.str_of(&module), self.str_of(&name)) {
                    (Some(m), Some(n)) => self.push(V::Global(format!("{m}.{n}").into()))?,
                    _ => return Err("STACK_GLOBAL needs two strings".into()),
                }
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let args = self
                    .tuple(&args)
                    .ok_or("REDUCE arguments are not a tuple")?
                    .to_vec();
                let v = self.call(&callable, args)?;
                self.push(v)?
            }
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let args = self
                    .tuple(&args)
                    .ok_or("NEWOBJ arguments are not a tuple")?
                    .to_vec();
                let v = self.call(&cls, args)?;
                self.push(v)?
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let args = self
                    .tuple(&args)
                    .ok_or("NEWOBJ_EX arguments are not a tuple")?
                    .to_vec();
                let v = self.call(&cls, args)?;
                self.push(v)?
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err("OBJ without a class".into());
                }
                let args = items.split_off(1);
                let v = self.call(&items[0], args)?;
                self.push(v)?
            }
            b'i' => {
                let module = r.line()?;
                let name = r.line()?;
                let args = self.pop_mark()?;
                let v = self.call(&V::Global(format!("{module}.{name}").into()), args)?;
                self.push(v)?
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?.clone();
                if let V::Ref(i) = target {
                    if let H::Object { state: s, .. } = &mut self.heap[i] {
                        *s = Some(state);
                    }
                    // Tensors, dicts and lists ignore their state (attributes this
                    // reader does not model).
                }
            }
            b'Q' => {
                let pid = self.pop()?;
                let v = self.persistent(&pid)?;
                self.push(v)?
            }
            b'P' => {
                return Err(
                    "a text persistent id (PERSID): not a torch checkpoint's storage".into(),
                )
            }
            0x82..=0x84 => return Err("the extension registry (EXT1/2/4) is not supported".into()),
            0x97 | 0x98 => return Err("out-of-band buffers are not supported".into()),
            _ => return Err("unknown opcode".into()),
        }
        Ok(())
    }

    fn append(&mut self, target: &V, items: Vec<V>) -> Result<(), String> {
        let V::Ref(i) = target else {
            return Err("APPEND to a value that is not a list".into());
        };
        match &mut self.heap[*i] {
            H::List(l) => l.extend(items),
            H::Object { items: its, .. } => {
                its.extend(items.into_iter().map(|v| (V::None, v)));
            }
            _ => return Err("APPEND to a value that is not a list".into()),
        }
        Ok(())
    }

    fn set_items(&mut self, target: &V, pairs: Vec<(V, V)>) -> Result<(), String> {
        let V::Ref(i) = target else {
            return Err("SETITEM on a value that is not a dict".into());
        };
        match &mut self.heap[*i] {
            H::Dict(d) | H::Object { items: d, .. } => d.extend(pairs),
            _ => return Err("SETITEM on a value that is not a dict".into()),
        }
        Ok(())
    }

    /// A storage from a persistent id `('storage', torch.<T>Storage, key, location, numel)`.
    fn persistent(&mut self, pid: &V) -> Result<V, String> {
        let t = self
            .tuple(pid)
            .ok_or("a persistent id that is not a tuple")?
            .to_vec();
        let bad = || "a persistent id that is not ('storage', type, key, location, numel)";
        if t.len() != 5 || self.str_of(&t[0]).as_deref() != Some("storage") {
            return Err(bad().into());
        }
        let V::Global(class) = &t[1] else {
            return Err(bad().into());
        };
        let (module, name) = class.rsplit_once('.').unwrap_or(("", class));
        let dtype = match (module, DType::of_storage(name)) {
            ("torch" | "torch.cuda", Some(d)) => d,
            _ => {
                return Err(format!(
                    "storage type {class} is not read (float, double, half, bfloat16, long, \
                     int, short, char, byte and bool storages are)"
                ))
            }
        };
        let key = match &t[2] {
            V::Str(s) => s.to_string(),
            V::Int(i) => i.to_string(),
            _ => return Err(bad().into()),
        };
        let numel = Self::int(&t[4])
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(bad)?;
        let index = match self.storage_keys.get(&key) {
            Some(&k) => {
                let s = &self.storages[k];
                if s.dtype != dtype || s.numel != numel {
                    return Err(format!(
                        "storage '{key}' is named twice with different types or sizes"
                    ));
                }
                k
            }
            None => {
                self.hold(1)?;
                self.storages.push(Storage {
                    key: key.clone(),
                    dtype,
                    numel,
                });
                self.storage_keys.insert(key, self.storages.len() - 1);
                self.storages.len() - 1
            }
        };
        self.alloc(H::Storage(index))
    }

    /// What calling `callable(*args)` would build, without calling anything.
    fn call(&mut self, callable: &V, args: Vec<V>) -> Result<V, String> {
        let V::Global(name) = callable else {
            return Err("a call of a value that is not a named class or function".into());
        };
        match &**name {
            "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
                let tensor = self.tensor(&args).map_err(|m| format!("{name}: {m}"))?;
                self.alloc(H::Tensor(tensor))
            }
            "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
                match args.first() {
                    Some(v @ V::Ref(i)) if matches!(self.heap[*i], H::Tensor(_)) => Ok(v.clone()),
                    _ => Err(format!("{name}: the first argument is not a tensor")),
                }
            }
            "collections.OrderedDict" => {
                let mut d = Vec::new();
                if let Some(items) = args.first() {
                    let items = self
                        .tuple(items)
                        .ok_or("OrderedDict of something other than a list of pairs")?
                        .to_vec();
                    for item in items {
                        match self.tuple(&item) {
                            Some([k, v]) => d.push((k.clone(), v.clone())),
                            _ => return Err("OrderedDict of something other than pairs".into()),
                        }
                    }
                }
                self.alloc(H::Dict(d))
            }
            "torch.Size" | "builtins.tuple" | "__builtin__.tuple" => {
                let items = match args.first() {
                    Some(v) => self.tuple(v).ok_or("torch.Size of a non-tuple")?.to_vec(),
                    None => Vec::new(),
                };
                self.alloc(H::Tuple(items))
            }
            "builtins.set"
            | "__builtin__.set"
            | "builtins.frozenset"
            | "__builtin__.frozenset"
            | "builtins.list"
            | "__builtin__.list" => {
                let items = match args.first() {
                    Some(v) => self.tuple(v).ok_or("a set of a non-list")?.to_vec(),
                    None => Vec::new(),
                };
                self.alloc(H::List(items))
            }
            // Protocols 0 and 1 build instances through copyreg helpers: the class is the
            // first argument.
            "copy_reg._reconstructor"
            | "copyreg._reconstructor"
            | "copy_reg.__newobj__"
            | "copyreg.__newobj__" => match args.split_first() {
                Some((cls @ V::Global(_), rest)) => {
                    let rest = if name.ends_with("_reconstructor") {
                        Vec::new()
                    } else {
                        rest.to_vec()
                    };
                    self.call(cls, rest)
                }
                _ => Err(format!("{name} of something other than a class")),
            },
            _ => self.alloc(H::Object {
                class: name.clone(),
                args,
                state: None,
                items: Vec::new(),
            }),
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`.
    fn tensor(&self, args: &[V]) -> Result<TensorRef, String> {
        if args.len() < 4 {
            return Err(format!("{} arguments, at least 4 expected", args.len()));
        }
        let storage = match &args[0] {
            V::Ref(i) => match self.heap[*i] {
                H::Storage(s) => s,
                _ => return Err("the first argument is not a storage".into()),
            },
            _ => return Err("the first argument is not a storage".into()),
        };
        let offset = Self::int(&args[1])
            .and_then(|o| u64::try_from(o).ok())
            .ok_or("the storage offset is not a non-negative integer")?;
        let ints = |v: &V, what: &str| -> Result<Vec<u64>, String> {
            let t = self
                .tuple(v)
                .ok_or_else(|| format!("the {what} is not a tuple"))?;
            if t.len() > 64 {
                return Err(format!("the {what} has {} dimensions", t.len()));
            }
            t.iter()
                .map(|x| {
                    Self::int(x)
                        .and_then(|i| u64::try_from(i).ok())
                        .ok_or_else(|| {
                            format!("the {what} holds a value that is not a non-negative integer")
                        })
                })
                .collect()
        };
        let shape = ints(&args[2], "size")?;
        let stride = ints(&args[3], "stride")?;
        if shape.len() != stride.len() {
            return Err(format!(
                "{} sizes but {} strides",
                shape.len(),
                stride.len()
            ));
        }
        let shape = shape
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| "a size does not fit in memory".to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TensorRef {
            storage,
            dtype: self.storages[storage].dtype,
            offset,
            shape,
            stride,
        })
    }

    /// The value tree of `v`: containers expanded, at most `budget` nodes, `depth` levels.
    fn export(&self, v: &V, depth: usize, budget: &mut usize) -> Result<Value, String> {
        if *budget == 0 {
            return Err(format!(
                "more than {MAX_OBJECTS} values once shared references are expanded"
            ));
        }
        *budget -= 1;
        if depth > MAX_DEPTH {
            return Err(format!(
                "nested deeper than {MAX_DEPTH} levels (or a container holds itself)"
            ));
        }
        let list = |items: &[V], budget: &mut usize| -> Result<Vec<Value>, String> {
            items
                .iter()
                .map(|x| self.export(x, depth + 1, budget))
                .collect()
        };
        let dict = |items: &[(V, V)], budget: &mut usize| -> Result<Vec<(Value, Value)>, String> {
            items
                .iter()
                .map(|(k, x)| {
                    Ok((
                        self.export(k, depth + 1, budget)?,
                        self.export(x, depth + 1, budget)?,
                    ))
                })
                .collect()
        };
        Ok(match v {
            V::None => Value::None,
            V::Bool(b) => Value::Bool(*b),
            V::Int(i) => Value::Int(*i),
            V::BigInt(b) => Value::BigInt(b.to_vec()),
            V::Float(f) => Value::Float(*f),
            V::Str(s) => Value::Str(s.to_string()),
            V::Bytes(b) => Value::Bytes(b.to_vec()),
            V::Global(g) => Value::Global(g.to_string()),
            V::Ref(i) => match &self.heap[*i] {
                H::List(l) => Value::List(list(l, budget)?),
                H::Tuple(l) => Value::Tuple(list(l, budget)?),
                H::Dict(d) => Value::Dict(dict(d, budget)?),
                H::Tensor(t) => Value::Tensor(t.clone()),
                H::Storage(s) => Value::Storage(*s),
                H::Object {
                    class,
                    args,
                    state,
                    items,
                } => Value::Object {
                    class: class.to_string(),
                    args: list(args, budget)?,
                    state: match state {
                        Some(s) => Some(Box::new(self.export(s, depth + 1, budget)?)),
                        None => None,
                    },
                    items: dict(items, budget)?,
                },
            },
        })
    }
}

/// Key/value pairs of a flat `k0 v0 k1 v1 …` list.
fn pairs(items: Vec<V>) -> Result<Vec<(V, V)>, String> {
    if !items.len().is_multiple_of(2) {
        return Err("an odd number of items for key/value pairs".into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
