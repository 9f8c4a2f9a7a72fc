//! Checkpoints written the way torch.save writes them, by `tests/support/torch_pt.py` (Python's
//! pickle with stand-ins named like torch's classes; no torch needed), and hostile ones.

use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::*;
use crate::test_util::TempDir;

/// Writes the checkpoint `spec` describes (see the script's docs) to `dir/name`.
fn make(dir: &TempDir, name: &str, mut spec: Json) -> PathBuf {
    let path = dir.path().join(name);
    spec["path"] = json!(path.to_str().unwrap());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/support/torch_pt.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (the fixture writer needs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "fixture writer failed");
    path
}

fn tensor(dtype: &str, values: Json, shape: Json) -> Json {
    json!({"__tensor__": {"dtype": dtype, "values": values, "shape": shape}})
}

fn err(r: Result<Checkpoint, IoError>) -> String {
    match r {
        Ok(_) => panic!("accepted"),
        Err(e @ IoError::Input { .. }) => e.to_string(),
        Err(e) => panic!("not an input error: {e}"),
    }
}

#[test]
fn tensors_of_every_dtype_with_shapes_and_nested_dicts() {
    let dir = TempDir::new("torch-dtypes");
    let root = json!({
        "state_dict": {"__ordered__": [
            ["_points", tensor("float32", json!([1.5, -2.0, 3.25, 4.0, 5.0, 6.0]), json!([2, 3]))],
            ["faces", tensor("int64", json!([0, 1, 2, 5_000_000_000i64, -7, 3]), json!([2, 3]))],
            ["encoder.weight", tensor("float64", json!([0.125, 1e30]), json!([2]))],
            ["half", tensor("float16", json!([0.5, -65504.0, 1.0]), json!([3]))],
            ["bf", tensor("bfloat16", json!([1.0, -3.0]), json!([2]))],
            ["i32", tensor("int32", json!([-5, 2147483647]), json!([2]))],
            ["i16", tensor("int16", json!([-300]), json!([1]))],
            ["i8", tensor("int8", json!([-128]), json!([1]))],
            ["u8", tensor("uint8", json!([255, 0]), json!([2]))],
            ["mask", tensor("bool", json!([true, false, true]), json!([3]))],
            ["scalar", tensor("float32", json!([0.75]), json!([]))],
            ["empty", tensor("float32", json!([]), json!([0, 3]))],
            ["param", {"__tensor__": {"dtype": "float32", "values": [9.0], "shape": [1], "param": true}}]
        ]},
        "epoch": 7,
        "lr": 0.001,
        "name": "sugar",
        "losses": [1.0, 0.5],
        "pair": {"__tuple__": [1, "a"]},
        "nested": {"a": {"b": {"c": tensor("float32", json!([42.0]), json!([1]))}}}
    });
    let path = make(&dir, "ck.pt", json!({"root": root, "prefix": "ck"}));
    let ck = load(&path).unwrap();
    let t = ck.tensor("state_dict._points").unwrap();
    assert_eq!(t.shape, [2, 3]);
    assert_eq!(t.dtype, DType::F32);
    assert_eq!(t.as_f32().unwrap(), [1.5, -2.0, 3.25, 4.0, 5.0, 6.0]);
    let f = ck.tensor("state_dict.faces").unwrap();
    assert_eq!(f.as_i64().unwrap(), [0, 1, 2, 5_000_000_000, -7, 3]);
    assert_eq!(f.dtype, DType::I64);
    // A key with a dot in it.
    let w = ck.tensor("state_dict.encoder.weight").unwrap();
    assert_eq!(w.dtype, DType::F64);
    assert_eq!(w.as_f32().unwrap(), [0.125, 1e30]);
    assert_eq!(
        ck.tensor("state_dict.half").unwrap().as_f32().unwrap(),
        [0.5, -65504.0, 1.0]
    );
    assert_eq!(
        ck.tensor("state_dict.bf").unwrap().as_f32().unwrap(),
        [1.0, -3.0]
    );
    assert_eq!(
        ck.tensor("state_dict.i32").unwrap().as_i64().unwrap(),
        [-5, 2147483647]
    );
    assert_eq!(
        ck.tensor("state_dict.i16").unwrap().as_i64().unwrap(),
        [-300]
    );
    assert_eq!(
        ck.tensor("state_dict.i8").unwrap().as_i64().unwrap(),
        [-128]
    );
    assert_eq!(
        ck.tensor("state_dict.u8").unwrap().as_i64().unwrap(),
        [255, 0]
    );
    assert_eq!(
        ck.tensor("state_dict.mask").unwrap().as_i64().unwrap(),
        [1, 0, 1]
    );
    let s = ck.tensor("state_dict.scalar").unwrap();
    assert!(s.shape.is_empty());
    assert_eq!(s.as_f32().unwrap(), [0.75]);
    let e = ck.tensor("state_dict.empty").unwrap();
    assert_eq!((e.shape.as_slice(), e.numel()), (&[0usize, 3][..], 0));
    assert_eq!(
        ck.tensor("state_dict.param").unwrap().as_f32().unwrap(),
        [9.0]
    );
    assert_eq!(ck.get_path("epoch"), Some(&Value::Int(7)));
    assert_eq!(ck.get_path("lr"), Some(&Value::Float(0.001)));
    assert_eq!(ck.get_path("name"), Some(&Value::Str("sugar".into())));
    assert_eq!(ck.get_path("losses.1"), Some(&Value::Float(0.5)));
    assert_eq!(
        ck.get_path("pair"),
        Some(&Value::Tuple(vec![Value::Int(1), Value::Str("a".into())]))
    );
    assert_eq!(ck.tensor("nested.a.b.c").unwrap().as_f32().unwrap(), [42.0]);
    assert_eq!(ck.storages.len(), 14);
    let paths: Vec<String> = ck.tensor_paths().into_iter().map(|(p, _)| p).collect();
    assert!(
        paths.contains(&"state_dict._points".to_string()),
        "{paths:?}"
    );
    assert_eq!(paths.len(), 14, "{paths:?}");
    assert!(paths.contains(&"nested.a.b.c".to_string()), "{paths:?}");
    // Shape checks and missing paths name what is there.
    let msg = ck
        .tensor_shaped("state_dict._points", &[None, Some(2)])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("'state_dict._points' has shape (2, 3), expected (*, 2)"),
        "{msg}"
    );
    let msg = ck.tensor("state_dict._nope").unwrap_err().to_string();
    assert!(msg.contains("ck.pt: has no 'state_dict._nope'"), "{msg}");
    assert!(msg.contains("_points"), "{msg}");
    let msg = ck.tensor("epoch").unwrap_err().to_string();
    assert!(msg.contains("'epoch' is the int 7, not a tensor"), "{msg}");
}

#[test]
fn views_strides_offsets_and_shared_storages() {
    let dir = TempDir::new("torch-views");
    let base: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let view = |shape: Json, stride: Json, offset: u64| {
        json!({"__tensor__": {"dtype": "float32", "storage": "s", "values": base,
                "shape": shape, "stride": stride, "offset": offset}})
    };
    let root = json!({
        "full": view(json!([3, 4]), json!([4, 1]), 0),
        // The transpose of `full`.
        "t": view(json!([4, 3]), json!([1, 4]), 0),
        // Row 1, columns 1..3.
        "slice": view(json!([2]), json!([1]), 5),
        // Every other column of rows 1..2.
        "strided": view(json!([2, 2]), json!([4, 2]), 4),
        // A broadcast (stride 0) of element 3.
        "expand": view(json!([2, 3]), json!([0, 0]), 3)
    });
    let path = make(&dir, "views.pt", json!({"root": root}));
    let ck = load(&path).unwrap();
    assert_eq!(ck.storages.len(), 1, "one storage shared by every view");
    assert_eq!(
        ck.tensor("full").unwrap().as_f32().unwrap(),
        base.as_slice()
    );
    assert_eq!(
        ck.tensor("t").unwrap().as_f32().unwrap(),
        [0., 4., 8., 1., 5., 9., 2., 6., 10., 3., 7., 11.]
    );
    assert_eq!(ck.tensor("slice").unwrap().as_f32().unwrap(), [5., 6.]);
    assert_eq!(
        ck.tensor("strided").unwrap().as_f32().unwrap(),
        [4., 6., 8., 10.]
    );
    assert_eq!(ck.tensor("expand").unwrap().as_f32().unwrap(), [3.0; 6]);
    // A view that reaches past its storage is refused.
    let root = json!({"bad": view(json!([3, 4]), json!([4, 1]), 1)});
    let path = make(&dir, "past.pt", json!({"root": root}));
    let msg = load(&path).unwrap().tensor("bad").unwrap_err().to_string();
    assert!(
        msg.contains("tensor 'bad'") && msg.contains("reach element 12 of a storage of 12"),
        "{msg}"
    );
}

#[test]
fn opaque_objects_stay_walkable_across_protocols() {
    let dir = TempDir::new("torch-objects");
    let root = json!({
        "_alpha": tensor("float32", json!([0.2, 0.3, 0.5]), json!([1, 1, 3])),
        "point_cloud": {"__object__": {
            "module": "games.mesh_splatting.utils.graphics_utils",
            "name": "MeshPointCloud",
            "state": {"alpha": tensor("float32", json!([1.0, 2.0]), json!([2])), "n": 3}
        }}
    });
    let mut first = None;
    for protocol in [1, 2, 3, 4, 5] {
        let path = make(
            &dir,
            &format!("p{protocol}.pt"),
            json!({"root": root, "protocol": protocol}),
        );
        let ck = load(&path).unwrap();
        match ck.get_path("point_cloud") {
            Some(Value::Object { class, .. }) => assert_eq!(
                class,
                "games.mesh_splatting.utils.graphics_utils.MeshPointCloud"
            ),
            other => panic!("protocol {protocol}: {other:?}"),
        }
        assert_eq!(ck.get_path("point_cloud.n"), Some(&Value::Int(3)));
        assert_eq!(
            ck.tensor("point_cloud.alpha").unwrap().as_f32().unwrap(),
            [1.0, 2.0]
        );
        let a = ck.tensor("_alpha").unwrap();
        assert_eq!(a.shape, [1, 1, 3]);
        match &first {
            None => first = Some(ck.root.clone()),
            Some(r) => assert_eq!(r, &ck.root, "protocol {protocol} differs"),
        }
    }
}

/// A zip with `pickle` as data.pkl and the given extra entries.
fn raw(dir: &TempDir, name: &str, pickle: &[u8], extra: Json) -> PathBuf {
    let hex: String = pickle.iter().map(|b| format!("{b:02x}")).collect();
    make(
        dir,
        name,
        json!({"root": {}, "raw_pickle": hex, "entries": extra}),
    )
}

#[test]
fn bad_files_are_input_errors_naming_the_problem() {
    let dir = TempDir::new("torch-bad");
    let ok = json!({"root": {"x": tensor("float32", json!([1.0, 2.0]), json!([2]))}});
    // Big-endian, legacy, TorchScript, plain zip, not a zip.
    let mut spec = ok.clone();
    spec["byteorder"] = json!("big");
    let msg = err(load(&make(&dir, "big.pt", spec)));
    assert!(msg.contains("big.pt: a big-endian checkpoint"), "{msg}");
    let legacy = dir.path().join("legacy.pt");
    std::fs::write(&legacy, b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.").unwrap();
    let msg = err(load(&legacy));
    assert!(
        msg.contains("legacy (pre-1.6)") && msg.contains("torch >= 1.6"),
        "{msg}"
    );
    let mut spec = ok.clone();
    spec["omit"] = json!(["data.pkl"]);
    spec["entries"] = json!({"constants.pkl": "80024e2e"});
    let msg = err(load(&make(&dir, "script.pt", spec)));
    assert!(msg.contains("TorchScript"), "{msg}");
    let mut spec = ok.clone();
    spec["omit"] = json!(["data.pkl"]);
    let msg = err(load(&make(&dir, "nopkl.pt", spec)));
    assert!(msg.contains("without <archive>/data.pkl"), "{msg}");
    let text = dir.path().join("text.pt");
    std::fs::write(&text, b"hello").unwrap();
    assert!(err(load(&text)).contains("not a PyTorch checkpoint"));
    // A storage whose entry is missing, or smaller than the pickle says.
    let mut spec = ok.clone();
    spec["omit"] = json!(["data/0"]);
    let ck = load(&make(&dir, "nostorage.pt", spec)).unwrap();
    let msg = ck.tensor("x").unwrap_err().to_string();
    assert!(
        msg.contains("storage entry 'archive/data/0' is missing"),
        "{msg}"
    );
    let mut spec = ok.clone();
    spec["entries"] = json!({"data/0": "0000803f"});
    let ck = load(&make(&dir, "short.pt", spec)).unwrap();
    let msg = ck.tensor("x").unwrap_err().to_string();
    assert!(
        msg.contains("declares 2 float32 elements but its entry holds 4 bytes"),
        "{msg}"
    );
    // Truncation anywhere: never accepted with wrong values, never a panic.
    let good = std::fs::read(make(&dir, "good.pt", ok)).unwrap();
    for cut in (0..good.len()).step_by(7) {
        let r = Checkpoint::parse(good[..cut].to_vec(), Path::new("cut.pt"))
            .and_then(|ck| ck.tensor("x"));
        match r {
            Ok(t) => assert_eq!(t.as_f32().unwrap(), [1.0, 2.0], "cut at {cut}"),
            Err(IoError::Input { message, .. }) => assert!(!message.is_empty()),
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn hostile_pickles_are_refused_and_nothing_runs() {
    let dir = TempDir::new("torch-hostile");
    let check = |name: &str, pickle: &[u8], want: &str| {
        let msg = err(load(&raw(&dir, name, pickle, json!({}))));
        assert!(msg.contains(want), "{name}: {msg}");
        assert!(msg.contains(name), "{name}: {msg}");
    };
    // A list that holds itself: [ ] PUT 0, GET 0, APPEND, STOP.
    check("cycle.pt", b"\x80\x02]q\x00h\x00a.", "nested deeper than");
    // Exponential sharing: l0 = [], l_{k+1} = [l_k, l_k], 40 levels.
    let mut p = b"\x80\x02]".to_vec();
    for _ in 0..40 {
        p.extend_from_slice(b"q\x00h\x00\x86"); // PUT 0, GET 0, TUPLE2
    }
    p.push(b'.');
    check("bomb.pt", &p, "once shared references are expanded");
    // Truncated, unknown opcodes, a missing memo entry, a pop below a mark.
    check("trunc.pt", b"\x80\x02X\xff\x00\x00\x00ab", "truncated");
    check("nostop.pt", b"\x80\x02N", "no STOP");
    check("unknown.pt", b"\x80\x02\xff.", "unknown opcode");
    check("ext.pt", b"\x80\x02\x82\x01.", "extension registry");
    check(
        "memo.pt",
        b"\x80\x02h\x05.",
        "memo entry 5 was never stored",
    );
    check("mark.pt", b"\x80\x02N(R.", "empty stack");
    check("proto.pt", b"\x80\x09N.", "pickle protocol 9");
    // A persistent id that lies: a storage type torch does not have, a non-tuple.
    check(
        "pid.pt",
        b"\x80\x02(X\x07\x00\x00\x00storagecos\nsystem\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ.",
        "storage type os.system is not read",
    );
    check(
        "pid2.pt",
        b"\x80\x02K\x01Q.",
        "persistent id that is not a tuple",
    );
    // A call of os.system is only named, never made.
    let ck = load(&raw(
        &dir,
        "system.pt",
        b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00echo\x85R.",
        json!({}),
    ))
    .unwrap();
    assert_eq!(
        ck.root,
        Value::Object {
            class: "os.system".into(),
            args: vec![Value::Str("echo".into())],
            state: None,
            items: vec![],
        }
    );
    // A tensor with sizes and strides of different lengths.
    let p = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01K\x01\x86tR.";
    check("strides.pt", p, "1 sizes but 2 strides");
}

/// The committed fixture (`tests/data/torch/sugar_small.pt`, written from `sugar_small.json`)
/// reads back the spec's values: f32, f16 (within its rounding), int64, a strided f64 view and
/// a bf16 tensor inside an opaque object.
#[test]
fn committed_fixture_matches_its_spec() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/torch");
    let spec: Json =
        serde_json::from_str(&std::fs::read_to_string(data.join("sugar_small.json")).unwrap())
            .unwrap();
    let ck = load(&data.join("sugar_small.pt")).unwrap();
    let values = |t: &Json| -> Vec<f64> {
        t["__tensor__"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let entries = spec["root"]["state_dict"]["__ordered__"]
        .as_array()
        .unwrap();
    for e in entries {
        let name = e[0].as_str().unwrap();
        let want = values(&e[1]);
        let shape: Vec<usize> = e[1]["__tensor__"]["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let t = ck.tensor(&format!("state_dict.{name}")).unwrap();
        assert_eq!(t.shape, shape, "{name}");
        let got = t.to_f32();
        let tol = if t.dtype == DType::F16 { 1e-3 } else { 0.0 };
        for (g, w) in got.iter().zip(&want) {
            assert!(
                ((*g as f64) - w).abs() <= tol + 1e-7 * w.abs(),
                "{name}: {g} vs {w}"
            );
        }
    }
    assert_eq!(
        ck.tensor("state_dict._surface_mesh_faces").unwrap().dtype,
        DType::I64
    );
    // view: shape [2, 3], strides [1, 4], offset 1 over 0..12.
    assert_eq!(
        ck.tensor("view").unwrap().as_f32().unwrap(),
        [1., 5., 9., 2., 6., 10.]
    );
    assert_eq!(
        ck.tensor("pc.alpha").unwrap().as_f32().unwrap(),
        [0.5, 0.25]
    );
    assert_eq!(ck.get_path("iteration"), Some(&Value::Int(7000)));
}
