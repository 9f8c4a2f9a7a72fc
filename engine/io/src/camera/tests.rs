//! Camera JSON tests: both forms, the INRIA conversion, and error messages.

use super::*;
use crate::test_util::TempDir;

fn parse_ok(json: &str) -> Vec<Camera> {
    parse_cameras(json, Path::new("cams.json")).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(json: &str) -> String {
    match parse_cameras(json, Path::new("cams.json")) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => {
            assert!(matches!(e, IoError::Input { .. }));
            let s = e.to_string();
            assert!(s.starts_with("cams.json: "), "{s}");
            s
        }
    }
}

fn apply(m: &[[f32; 4]; 4], p: [f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (0..3).map(|j| f64::from(m[i][j]) * p[j]).sum::<f64>() + f64::from(m[i][3]);
    }
    out
}

fn close(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

const EXPLICIT: &str = r#"{
    "name": "front", "width": 640, "height": 480,
    "fx": 500, "fy": 510.5, "cx": 320.0, "cy": 240,
    "world_to_camera": [[1,0,0,0.5],[0,1,0,-1],[0,0,1,4],[0,0,0,1]]
}"#;

#[test]
fn explicit_single_object() {
    let cams = parse_ok(EXPLICIT);
    assert_eq!(cams.len(), 1);
    let c = &cams[0];
    assert_eq!(c.name, "front");
    assert_eq!((c.width, c.height), (640, 480));
    assert_eq!((c.fx, c.fy, c.cx, c.cy), (500.0, 510.5, 320.0, 240.0));
    assert_eq!(c.world_to_camera[0], [1.0, 0.0, 0.0, 0.5]);
    assert_eq!(c.world_to_camera[2], [0.0, 0.0, 1.0, 4.0]);
    assert_eq!(c.position(), [-0.5, 1.0, -4.0]);
}

#[test]
fn explicit_list_and_default_names() {
    let no_name = EXPLICIT.replace(r#""name": "front","#, "");
    let cams = parse_ok(&format!("[{EXPLICIT}, {no_name}]"));
    assert_eq!(cams.len(), 2);
    assert_eq!(cams[0].name, "front");
    assert_eq!(cams[1].name, "camera 1");
}

/// Rotation about the axis (1,2,3)/|.| by 0.7 rad: a generic proper rotation.
fn generic_rotation() -> [[f64; 3]; 3] {
    let (x, y, z) = {
        let n = (1.0f64 + 4.0 + 9.0).sqrt();
        (1.0 / n, 2.0 / n, 3.0 / n)
    };
    let (s, c) = 0.7f64.sin_cos();
    let t = 1.0 - c;
    [
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ]
}

fn inria_json(r: [[f64; 3]; 3], p: [f64; 3]) -> String {
    format!(
        r#"[{{"id": 0, "img_name": "DSC0001", "width": 1000, "height": 750,
            "position": [{}, {}, {}],
            "rotation": [[{}, {}, {}], [{}, {}, {}], [{}, {}, {}]],
            "fy": 900.25, "fx": 901}}]"#,
        p[0],
        p[1],
        p[2],
        r[0][0],
        r[0][1],
        r[0][2],
        r[1][0],
        r[1][1],
        r[1][2],
        r[2][0],
        r[2][1],
        r[2][2]
    )
}

#[test]
fn inria_form_converts_numerically() {
    let r = generic_rotation();
    let p = [1.5, -2.0, 3.25];
    let cams = parse_ok(&inria_json(r, p));
    let c = &cams[0];
    assert_eq!(c.name, "DSC0001");
    assert_eq!((c.width, c.height), (1000, 750));
    assert_eq!((c.fx, c.fy), (901.0, 900.25));
    assert_eq!((c.cx, c.cy), (500.0, 375.0));
    assert_eq!(c.world_to_camera[3], [0.0, 0.0, 0.0, 1.0]);

    // The camera centre maps to the camera origin ...
    assert!(close(apply(&c.world_to_camera, p), [0.0; 3], 1e-5));
    // ... and one unit along the camera's forward axis (R's third column,
    // i.e. R·(0,0,1)) maps to +z in camera space.
    let fwd = [p[0] + r[0][2], p[1] + r[1][2], p[2] + r[2][2]];
    assert!(close(apply(&c.world_to_camera, fwd), [0.0, 0.0, 1.0], 1e-5));
    let right = [p[0] + r[0][0], p[1] + r[1][0], p[2] + r[2][0]];
    assert!(close(
        apply(&c.world_to_camera, right),
        [1.0, 0.0, 0.0],
        1e-5
    ));

    let pos = c.position();
    assert!(close(pos.map(f64::from), p, 1e-5), "{pos:?}");
}

#[test]
fn mixed_forms_in_one_list() {
    let inria = inria_json(generic_rotation(), [0.0, 0.0, 0.0]);
    let inria_obj = inria.trim().trim_start_matches('[').trim_end_matches(']');
    let cams = parse_ok(&format!("[{EXPLICIT}, {inria_obj}]"));
    assert_eq!(cams[0].name, "front");
    assert_eq!(cams[1].name, "DSC0001");
}

#[test]
fn missing_fields_are_named() {
    for field in ["width", "height", "fx", "fy", "cx", "cy"] {
        let v: serde_json::Value = serde_json::from_str(EXPLICIT).unwrap();
        let mut obj = v.as_object().unwrap().clone();
        obj.remove(field);
        let json = format!("[{EXPLICIT}, {}]", serde_json::Value::Object(obj));
        let e = parse_err(&json);
        assert!(
            e.contains(&format!("'{field}'")) && e.contains("camera 1"),
            "{e}"
        );
    }
    let no_matrix = EXPLICIT.replace("world_to_camera", "w2c");
    let e = parse_err(&no_matrix);
    assert!(
        e.contains("'world_to_camera'") && e.contains("camera 0"),
        "{e}"
    );

    let no_position = inria_json(generic_rotation(), [0.0; 3]).replace("position", "pos");
    let e = parse_err(&no_position);
    assert!(e.contains("'position'"), "{e}");
    let no_rotation = inria_json(generic_rotation(), [0.0; 3]).replace("rotation", "rot");
    let e = parse_err(&no_rotation);
    assert!(e.contains("'rotation'"), "{e}");
    let no_fx = inria_json(generic_rotation(), [0.0; 3]).replace("\"fx\"", "\"focal\"");
    assert!(parse_err(&no_fx).contains("'fx'"));
}

#[test]
fn malformed_files() {
    assert!(parse_err("[]").contains("empty"));
    assert!(parse_err("{").contains("invalid JSON"));
    assert!(parse_err("42").contains("expected a camera object"));
    assert!(parse_err("[1]").contains("camera 0: expected a JSON object"));
    let e = parse_err(&EXPLICIT.replace("[0,0,0,1]", "[0,0,1]"));
    assert!(e.contains("4 rows of 4 numbers"), "{e}");
    let e = parse_err(&EXPLICIT.replace("\"width\": 640", "\"width\": 640.5"));
    assert!(e.contains("'width'") && e.contains("integer"), "{e}");
    let e = parse_err(&EXPLICIT.replace("\"fx\": 500", "\"fx\": \"500\""));
    assert!(e.contains("'fx' must be a number"), "{e}");
    // Validation failures name the camera.
    let e = parse_err(&EXPLICIT.replace("\"fx\": 500", "\"fx\": -500"));
    assert!(e.contains("camera 0 ('front')") && e.contains("fx"), "{e}");
    let e = parse_err(&EXPLICIT.replace("[1,0,0,0.5]", "[2,0,0,0.5]"));
    assert!(e.contains("orthonormal"), "{e}");
    // Floats for integer sizes are fine when integral.
    let cams = parse_ok(&EXPLICIT.replace("\"width\": 640", "\"width\": 640.0"));
    assert_eq!(cams[0].width, 640);
}

#[test]
fn validate_rules() {
    let base = parse_ok(EXPLICIT).remove(0);
    assert_eq!(base.validate(), Ok(()));
    let check = |f: &dyn Fn(&mut Camera), needle: &str| {
        let mut c = base.clone();
        f(&mut c);
        let e = c.validate().unwrap_err();
        assert!(e.contains(needle), "{needle}: {e}");
    };
    check(&|c| c.width = 0, "width");
    check(&|c| c.height = 40000, "height");
    check(&|c| (c.width, c.height) = (32768, 16385), "pixels");
    check(&|c| c.fy = 0.0, "fy");
    check(&|c| c.fx = f32::INFINITY, "fx");
    check(&|c| c.cy = f32::NAN, "cy");
    check(
        &|c| c.world_to_camera[1][3] = f32::NAN,
        "world_to_camera[1][3]",
    );
    check(&|c| c.world_to_camera[3][0] = 0.01, "last row");
    check(&|c| c.world_to_camera[0][1] = 0.01, "orthonormal");
    check(&|c| c.world_to_camera[2][2] = -1.0, "reflection");
    let mut ok = base.clone();
    ok.world_to_camera[3][3] = 1.00005; // within 1e-4
    ok.world_to_camera[0][1] = 0.0004; // within 1e-3
    assert_eq!(ok.validate(), Ok(()));
    let max = Camera {
        width: 16384,
        height: 16384,
        ..base.clone()
    };
    assert_eq!(max.validate(), Ok(()));
}

#[test]
fn rescale() {
    let c = parse_ok(EXPLICIT).remove(0);
    let r = c.rescaled(320, 960);
    assert_eq!((r.width, r.height), (320, 960));
    assert_eq!((r.fx, r.cx), (250.0, 160.0));
    assert_eq!((r.fy, r.cy), (1021.0, 480.0));
    assert_eq!(r.world_to_camera, c.world_to_camera);
    assert_eq!(r.name, c.name);
    assert_eq!(c.rescaled(640, 480), c);
    // Degenerate source size: no panic, and validate rejects the result.
    let zero = Camera {
        width: 0,
        ..c.clone()
    };
    assert!(zero.rescaled(10, 10).validate().is_err());
}

#[test]
fn load_from_disk() {
    let dir = TempDir::new("cameras");
    let path = dir.path().join("cameras.json");
    std::fs::write(&path, EXPLICIT).unwrap();
    assert_eq!(load_cameras(&path).unwrap().len(), 1);
    let missing = dir.path().join("missing.json");
    match load_cameras(&missing) {
        Err(e @ IoError::Input { .. }) => {
            assert!(e.to_string().contains("missing.json"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

/// Pixel coordinates and depth of world point `p` seen by `c` (for the computed-camera tests).
pub(crate) fn project(c: &Camera, p: [f32; 3]) -> (f32, f32, f32) {
    let m = &c.world_to_camera;
    let v: Vec<f32> = (0..3)
        .map(|i| m[i][0] * p[0] + m[i][1] * p[1] + m[i][2] * p[2] + m[i][3])
        .collect();
    (c.fx * v[0] / v[2] + c.cx, c.fy * v[1] / v[2] + c.cy, v[2])
}

/// Small splats at `means`.
pub(crate) fn splats_at(means: Vec<[f32; 3]>) -> crate::Splats {
    let n = means.len();
    crate::Splats {
        means,
        rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
        log_scales: vec![[-2.0; 3]; n],
        opacity_logits: vec![0.0; n],
        sh_degree: 0,
        sh: vec![0.0; n * 3],
    }
}

#[test]
fn camera_files_of_every_form_load_with_their_frame_rate() {
    let dir = TempDir::new("camera-path");
    let explicit = dir.path().join("cams.json");
    std::fs::write(&explicit, format!("[{EXPLICIT}, {EXPLICIT}]")).unwrap();
    let path = load_camera_path(&explicit).unwrap();
    assert_eq!(path.cameras.len(), 2);
    assert_eq!(path.frames_per_second, None);
    assert_eq!(load_cameras(&explicit).unwrap(), path.cameras);

    let ns = dir.path().join("camera_path.json");
    std::fs::write(
        &ns,
        r#"{"camera_type": "perspective", "render_width": 64, "render_height": 48,
            "fps": 29.97, "keyframes": [{}],
            "camera_path": [{"camera_to_world": [1,0,0,0, 0,1,0,0, 0,0,1,5, 0,0,0,1], "fov": 90}]}"#,
    )
    .unwrap();
    let path = load_camera_path(&ns).unwrap();
    assert_eq!(path.frames_per_second, Some((30000, 1001)));
    assert_eq!(path.cameras.len(), 1);
    assert_eq!(path.cameras[0].name, "camera_path 0");
    assert_eq!(load_cameras(&ns).unwrap(), path.cameras);

    // A bad path names the file and says it is a camera path.
    std::fs::write(&ns, r#"{"keyframes": [{}, {}]}"#).unwrap();
    let e = load_camera_path(&ns).unwrap_err();
    assert!(matches!(e, IoError::Input { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: camera path: ", ns.display())) && msg.contains("2 keyframe"),
        "{msg}"
    );
    // Not JSON at all: the camera-list reader's error.
    std::fs::write(&ns, "nope").unwrap();
    assert!(load_camera_path(&ns)
        .unwrap_err()
        .to_string()
        .contains("invalid JSON"));
}
