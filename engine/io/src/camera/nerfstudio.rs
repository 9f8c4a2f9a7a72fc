//! nerfstudio `camera_path.json` files: the cameras `ns-render camera-path` renders.
//!
//! Form: `{"camera_type", "render_width", "render_height", "fps", "camera_path":
//! [{"camera_to_world": 16 numbers (or 4 rows, or 3x4), row-major, OpenGL axes, "fov":
//! vertical degrees}, …], "keyframes": […]}`. Entry i of `camera_path` is camera i, with
//! fx = fy = (H/2)/tan(fov/2), the principal point at the image centre, and the camera axes
//! converted from OpenGL to OpenCV by negating y and z.
//!
//! A file is recognised by its `camera_path` or `keyframes` key. Only perspective paths are
//! accepted; a file with keyframes but no sampled `camera_path` list is rejected with a hint
//! (the viewer writes both).

use serde_json::Value;

use super::Camera;

/// True if `value` looks like a nerfstudio camera path rather than a camera list.
pub(super) fn is_nerfstudio(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.contains_key("camera_path") || o.contains_key("keyframes"))
}

/// The frame rate the path declares (its `fps`) as the EXR `framesPerSecond` rational: whole
/// rates as n/1, the NTSC rates 23.976, 29.97, 47.952, 59.94 and 119.88 as n·1000/1001, others
/// to a thousandth. `None` for a missing or unusable rate.
pub(super) fn frames_per_second(v: &Value) -> Option<(i32, u32)> {
    fps_rational(v.get("fps")?.as_f64()?)
}

fn fps_rational(fps: f64) -> Option<(i32, u32)> {
    if !(fps.is_finite() && fps > 0.0 && fps <= 1e6) {
        return None;
    }
    if (fps - fps.round()).abs() < 1e-9 {
        return Some((fps.round() as i32, 1));
    }
    for n in [24, 30, 48, 60, 120] {
        if (fps - f64::from(n) * 1000.0 / 1001.0).abs() < 1e-3 {
            return Some((n * 1000, 1001));
        }
    }
    let (mut n, mut d) = ((fps * 1000.0).round() as i64, 1000i64);
    let g = {
        let (mut a, mut b) = (n, d);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    if g > 1 {
        (n, d) = (n / g, d / g);
    }
    (n > 0).then_some((n as i32, d as u32))
}

/// The validated cameras of a path; `v` must satisfy [`is_nerfstudio`].
pub(super) fn parse(v: &Value) -> Result<Vec<Camera>, String> {
    let Some(obj) = v.as_object() else {
        return Err("expected a JSON object".into());
    };
    if let Some(t) = obj.get("camera_type") {
        let t = t.as_str().unwrap_or("?");
        if !t.eq_ignore_ascii_case("perspective") {
            return Err(format!(
                "camera_type '{t}' is not supported (only perspective)"
            ));
        }
    }
    let size = |key: &str| -> Result<u32, String> {
        obj.get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.fract() == 0.0 && (1.0..=32768.0).contains(v))
            .map(|v| v as u32)
            .ok_or_else(|| format!("'{key}' must be an integer in 1..=32768"))
    };
    let entries = obj
        .get("camera_path")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let keyframes = obj
        .get("keyframes")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if entries.is_empty() {
        return Err(if keyframes == 0 {
            "the camera path has zero keyframes and no cameras".into()
        } else {
            format!(
                "the file has {keyframes} keyframe(s) but no sampled 'camera_path' list; export \
                 the path again from the nerfstudio viewer (it writes both)"
            )
        });
    }
    let (width, height) = (size("render_width")?, size("render_height")?);
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let camera = camera(e, i, width, height).map_err(|m| format!("camera {i}: {m}"))?;
            camera.validate().map_err(|m| format!("camera {i}: {m}"))?;
            Ok(camera)
        })
        .collect()
}

fn camera(e: &Value, i: usize, width: u32, height: u32) -> Result<Camera, String> {
    let m: Vec<f64> = match e.get("camera_to_world") {
        Some(Value::Array(rows)) if rows.iter().all(Value::is_array) => rows
            .iter()
            .flat_map(|r| r.as_array().into_iter().flatten().map(Value::as_f64))
            .collect::<Option<_>>()
            .unwrap_or_default(),
        Some(Value::Array(flat)) => flat
            .iter()
            .map(Value::as_f64)
            .collect::<Option<_>>()
            .unwrap_or_default(),
        None => return Err("missing 'camera_to_world'".into()),
        _ => Vec::new(),
    };
    if m.len() != 16 && m.len() != 12 {
        return Err("'camera_to_world' must be 16 numbers (4x4 row-major) or 3x4".into());
    }
    let fov = e
        .get("fov")
        .and_then(Value::as_f64)
        .filter(|f| f.is_finite() && *f > 0.0 && *f < 180.0)
        .ok_or("'fov' must be a vertical field of view in degrees, in (0, 180)")?;
    let focal = f64::from(height) / 2.0 / (fov.to_radians() / 2.0).tan();
    // camera_to_world in OpenGL axes; OpenCV axes negate the camera's y and z columns.
    let r = |row: usize, col: usize| {
        let v = m[row * 4 + col];
        if col == 1 || col == 2 {
            -v
        } else {
            v
        }
    };
    let t = [m[3], m[7], m[11]];
    let mut w2c = [[0.0f32; 4]; 4];
    for (a, row) in w2c.iter_mut().take(3).enumerate() {
        let mut tr = 0.0;
        for (b, tb) in t.iter().enumerate() {
            // (R^T)[a][b] = R[b][a]
            row[b] = r(b, a) as f32;
            tr -= r(b, a) * tb;
        }
        row[3] = tr as f32;
    }
    w2c[3] = [0.0, 0.0, 0.0, 1.0];
    Ok(Camera::centred(
        format!("camera_path {i}"),
        width,
        height,
        focal,
        w2c,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::tests::project;

    #[test]
    fn fps_rationals() {
        assert_eq!(fps_rational(24.0), Some((24, 1)));
        assert_eq!(fps_rational(29.97), Some((30000, 1001)));
        assert_eq!(fps_rational(23.976), Some((24000, 1001)));
        assert_eq!(fps_rational(59.94), Some((60000, 1001)));
        assert_eq!(fps_rational(12.5), Some((25, 2)));
        assert_eq!(fps_rational(0.0), None);
        assert_eq!(fps_rational(-24.0), None);
        assert_eq!(fps_rational(f64::NAN), None);
        assert_eq!(fps_rational(1e300), None);
    }

    #[test]
    fn nerfstudio_paths() {
        // Identity camera_to_world in OpenGL axes looks down -z with y up.
        let json = r#"{"camera_type": "perspective", "render_width": 64, "render_height": 48,
            "fps": 24, "seconds": 1, "keyframes": [{}],
            "camera_path": [
              {"camera_to_world": [1,0,0,0, 0,1,0,0, 0,0,1,5, 0,0,0,1], "fov": 90, "aspect": 1.33},
              {"camera_to_world": [[1,0,0,1],[0,1,0,0],[0,0,1,5],[0,0,0,1]], "fov": 60}
            ]}"#;
        let v: Value = serde_json::from_str(json).unwrap();
        assert!(is_nerfstudio(&v));
        assert_eq!(frames_per_second(&v), Some((24, 1)));
        let cams = parse(&v).unwrap();
        assert_eq!(cams.len(), 2);
        let c = &cams[0];
        assert_eq!((c.width, c.height), (64, 48));
        assert!((c.fy - 24.0).abs() < 1e-4 && c.fx == c.fy);
        assert_eq!(c.position(), [0.0, 0.0, 5.0]);
        // A point in front (world -z of the camera) projects to the centre with positive depth;
        // world +y is image up (smaller pixel y).
        let (x, y, z) = project(c, [0.0, 0.0, 0.0]);
        assert!((x - 32.0).abs() < 1e-4 && (y - 24.0).abs() < 1e-4 && (z - 5.0).abs() < 1e-5);
        let (_, y_up, _) = project(c, [0.0, 1.0, 0.0]);
        assert!(y_up < 24.0);
        assert_eq!(cams[1].position(), [1.0, 0.0, 5.0]);
        assert!((cams[1].fy - 24.0 / 30f32.to_radians().tan()).abs() < 1e-3);

        for (bad, why) in [
            (
                r#"{"render_width": 8, "render_height": 8, "keyframes": [], "camera_path": []}"#,
                "zero keyframes",
            ),
            (
                r#"{"render_width": 8, "render_height": 8, "keyframes": [{}, {}]}"#,
                "2 keyframe",
            ),
            (
                r#"{"camera_type": "fisheye", "camera_path": [{}]}"#,
                "fisheye",
            ),
            (
                r#"{"render_width": 8, "camera_path": [{"camera_to_world": [1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1], "fov": 50}]}"#,
                "render_height",
            ),
            (
                r#"{"render_width": 8, "render_height": 8, "camera_path": [{"camera_to_world": [1,0,0], "fov": 50}]}"#,
                "16 numbers",
            ),
            (
                r#"{"render_width": 8, "render_height": 8, "camera_path": [{"camera_to_world": [[1,0,0,0],[0,1,0,0],[0,0,1,0],7], "fov": 50}]}"#,
                "16 numbers",
            ),
            (
                r#"{"render_width": 8, "render_height": 8, "camera_path": [{"camera_to_world": [1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}]}"#,
                "fov",
            ),
            (
                r#"{"render_width": 8, "render_height": 8, "camera_path": [{"camera_to_world": [2,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1], "fov": 50}]}"#,
                "orthonormal",
            ),
        ] {
            let v: Value = serde_json::from_str(bad).unwrap();
            let err = parse(&v).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
