//! Camera paths: which camera frame N of a render uses.
//!
//! Every source is an ordered list of cameras; frame `first_frame + i` is camera `i`:
//!
//! * a camera JSON file (one camera, a list, or an INRIA `cameras.json`, see `vksplat-io`);
//! * a nerfstudio `camera_path.json` (`{"camera_type", "render_width", "render_height",
//!   "camera_path": [{"camera_to_world": 16 numbers, row-major, OpenGL axes, "fov": vertical
//!   degrees}, …], "keyframes": […]}`): entry i of `camera_path` is frame i, exactly the cameras
//!   `ns-render camera-path` renders (fx = fy = (H/2)/tan(fov/2), principal point at the image
//!   centre, camera axes converted from OpenGL to OpenCV by negating y and z);
//! * `--orbit N[,radius[,height]]`: a turntable of N cameras around the scene (see [`orbit`]);
//! * neither: the automatic camera alone.
//!
//! A nerfstudio file is recognised by its `camera_path` or `keyframes` key. Only perspective
//! paths are accepted; a file with keyframes but no sampled `camera_path` list is rejected with
//! a hint (the viewer writes both).

use std::path::Path;

use serde_json::Value;
use vksplat_io::{Camera, IoError, Splats};

/// Orbit parameters from `--orbit N[,radius[,height]]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitSpec {
    pub frames: u32,
    pub radius: Option<f64>,
    pub height: Option<f64>,
}

/// Parses `--orbit`.
pub fn parse_orbit(s: &str) -> Result<OrbitSpec, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() > 3 {
        return Err(format!(
            "expected N[,radius[,height]], got {} values",
            parts.len()
        ));
    }
    let frames: u32 = parts[0]
        .parse()
        .ok()
        .filter(|&n| (1..=1_000_000).contains(&n))
        .ok_or_else(|| format!("'{}' is not a frame count in 1..=1000000", parts[0]))?;
    let num = |i: usize, what: &str, positive: bool| -> Result<Option<f64>, String> {
        match parts.get(i) {
            None => Ok(None),
            Some(p) => p
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && (!positive || *v > 0.0))
                .map(Some)
                .ok_or_else(|| {
                    let need = if positive { "a positive" } else { "a finite" };
                    format!("{what} '{p}' is not {need} number")
                }),
        }
    };
    Ok(OrbitSpec {
        frames,
        radius: num(1, "radius", true)?,
        height: num(2, "height", false)?,
    })
}

/// Parses `--up X,Y,Z` (any non-zero finite vector).
pub fn parse_up(s: &str) -> Result<[f64; 3], String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("'{s}' is not three finite numbers X,Y,Z"))?;
    if v.len() != 3 || v.iter().all(|&c| c == 0.0) {
        return Err(format!("'{s}' is not a non-zero vector X,Y,Z"));
    }
    Ok([v[0], v[1], v[2]])
}

/// True if `value` looks like a nerfstudio camera path rather than a camera list.
fn is_nerfstudio(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.contains_key("camera_path") || o.contains_key("keyframes"))
}

/// Loads a camera file of any supported form (see the module docs). Errors are input errors
/// naming the file.
pub fn load(path: &Path) -> Result<Vec<Camera>, IoError> {
    // Regular files only (a FIFO must not block), read into fallibly allocated memory.
    let text = vksplat_io::camera::read_camera_file(path)?;
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if is_nerfstudio(&v) => {
            parse_nerfstudio(&v).map_err(|m| IoError::input(path, format!("camera path: {m}")))
        }
        _ => vksplat_io::parse_cameras(&text, path),
    }
}

/// The frame rate a nerfstudio camera path declares (its `fps`), as the EXR
/// `framesPerSecond` rational: whole rates as n/1, the NTSC rates 23.976, 29.97, 47.952,
/// 59.94 and 119.88 as n·1000/1001, others to a thousandth. `None` for other camera files and
/// for a missing or unusable rate (the file itself was already read by [`load`]).
pub fn frames_per_second(path: &Path) -> Option<(i32, u32)> {
    let text = vksplat_io::camera::read_camera_file(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    if !is_nerfstudio(&v) {
        return None;
    }
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

fn parse_nerfstudio(v: &Value) -> Result<Vec<Camera>, String> {
    let obj = v.as_object().expect("checked by is_nerfstudio");
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
            let camera =
                nerfstudio_camera(e, i, width, height).map_err(|m| format!("camera {i}: {m}"))?;
            camera.validate().map_err(|m| format!("camera {i}: {m}"))?;
            Ok(camera)
        })
        .collect()
}

fn nerfstudio_camera(e: &Value, i: usize, width: u32, height: u32) -> Result<Camera, String> {
    let m: Vec<f64> = match e.get("camera_to_world") {
        Some(Value::Array(rows)) if rows.iter().all(Value::is_array) => rows
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(Value::as_f64))
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
    Ok(Camera {
        name: format!("camera_path {i}"),
        width,
        height,
        fx: focal as f32,
        fy: focal as f32,
        cx: width as f32 / 2.0,
        cy: height as f32 / 2.0,
        world_to_camera: w2c,
    })
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    a.map(|v| v * s)
}
fn normalize(a: [f64; 3]) -> [f64; 3] {
    scale(a, 1.0 / dot(a, a).sqrt())
}

/// Half the horizontal field of view of orbit cameras (as the automatic camera).
const HALF_FOV_X_DEG: f64 = 30.0;

/// A turntable of `spec.frames` cameras around the scene, `width`×`height`, 60° horizontal
/// field of view, principal point at the centre.
///
/// Centre: the middle of the 5th–95th percentile box of the splat centres (as the automatic
/// camera). `up` (default −y, the image-up direction of the automatic camera) is the turntable
/// axis. Camera i sits at angle 2π·i/N around it, `radius` from the axis (default: far enough
/// that the box's bounding sphere fits the view with a 10 % margin) and `height` along `up`
/// from the centre (default 0), looking at the centre. Camera 0 is on the −z side, like the
/// automatic camera; the orbit turns counter-clockwise seen from above (from +up).
pub fn orbit(
    splats: &Splats,
    spec: &OrbitSpec,
    up: [f64; 3],
    width: u32,
    height: u32,
) -> Vec<Camera> {
    let tan_x = HALF_FOV_X_DEG.to_radians().tan();
    let focal = f64::from(width) / (2.0 * tan_x);
    let tan_y = f64::from(height) / 2.0 / focal;
    let (centre, half) = crate::auto_camera::scene_box(splats).unwrap_or(([0.0; 3], [1.0; 3]));
    let r_sphere = dot(half, half)
        .sqrt()
        .max(1e-3 * (1.0 + dot(centre, centre).sqrt()));
    let fit = r_sphere / tan_x.min(tan_y).atan().sin() * 1.1;
    let radius = spec.radius.unwrap_or(fit);
    let h = spec.height.unwrap_or(0.0);
    let up = normalize(up);
    // Camera 0 direction from the centre: −z projected onto the plane normal to `up`.
    let mut back = sub([0.0, 0.0, -1.0], scale(up, dot([0.0, 0.0, -1.0], up)));
    if dot(back, back) < 1e-12 {
        back = sub([1.0, 0.0, 0.0], scale(up, dot([1.0, 0.0, 0.0], up)));
    }
    let back = normalize(back);
    let side = cross(up, back);
    (0..spec.frames)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / f64::from(spec.frames);
            let dir = [0, 1, 2].map(|k| back[k] * a.cos() + side[k] * a.sin());
            let pos = [0, 1, 2].map(|k| centre[k] + radius * dir[k] + h * up[k]);
            let z = normalize(sub(centre, pos));
            let x = normalize(cross(scale(up, -1.0), z));
            let y = cross(z, x);
            let mut w2c = [[0.0f32; 4]; 4];
            for (row, axis) in w2c.iter_mut().zip([x, y, z]) {
                *row = [
                    axis[0] as f32,
                    axis[1] as f32,
                    axis[2] as f32,
                    -dot(axis, pos) as f32,
                ];
            }
            w2c[3] = [0.0, 0.0, 0.0, 1.0];
            Camera {
                name: format!("orbit {i}/{}", spec.frames),
                width,
                height,
                fx: focal as f32,
                fy: focal as f32,
                cx: width as f32 / 2.0,
                cy: height as f32 / 2.0,
                world_to_camera: w2c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn project(c: &Camera, p: [f32; 3]) -> (f32, f32, f32) {
        let m = &c.world_to_camera;
        let v: Vec<f32> = (0..3)
            .map(|i| m[i][0] * p[0] + m[i][1] * p[1] + m[i][2] * p[2] + m[i][3])
            .collect();
        (c.fx * v[0] / v[2] + c.cx, c.fy * v[1] / v[2] + c.cy, v[2])
    }

    fn splats(means: Vec<[f32; 3]>) -> Splats {
        let n = means.len();
        Splats {
            means,
            rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
            log_scales: vec![[-2.0; 3]; n],
            opacity_logits: vec![0.0; n],
            sh_degree: 0,
            sh: vec![0.0; n * 3],
        }
    }

    #[test]
    fn orbit_frames_the_scene_from_every_side() {
        let mut means = Vec::new();
        for i in 0..500 {
            let t = i as f32 / 499.0;
            means.push([
                3.0 + 2.0 * (t * 9.0).sin(),
                -1.0 + t,
                5.0 + 2.0 * (t * 5.0).cos(),
            ]);
        }
        let s = splats(means.clone());
        let spec = parse_orbit("8").unwrap();
        let cams = orbit(&s, &spec, [0.0, -1.0, 0.0], 160, 90);
        assert_eq!(cams.len(), 8);
        for c in &cams {
            assert_eq!(c.validate(), Ok(()), "{}", c.name);
            for m in &means {
                let (x, y, z) = project(c, *m);
                assert!(z > 0.0);
                assert!(
                    (-1.0..=161.0).contains(&x) && (-1.0..=91.0).contains(&y),
                    "{x} {y}"
                );
            }
        }
        // Camera 0 is on the −z side looking down +z, like the automatic camera.
        let p0 = cams[0].position();
        assert!(p0[2] < 3.0, "{p0:?}");
        assert!((cams[0].world_to_camera[2][2] - 1.0).abs() < 1e-5);
        // Camera 4 is opposite.
        let p4 = cams[4].position();
        assert!(p4[2] > 7.0, "{p4:?}");
        // Explicit radius and height.
        let spec = parse_orbit("4, 10, 2").unwrap();
        let cams = orbit(&s, &spec, [0.0, 0.0, 1.0], 64, 64);
        for c in &cams {
            assert_eq!(c.validate(), Ok(()));
            assert!(
                (c.position()[2] - 2.0 - 4.9).abs() < 0.2,
                "{:?}",
                c.position()
            );
        }
        // Empty scene still gives valid cameras.
        for c in orbit(&Splats::default(), &spec, [0.0, -1.0, 0.0], 8, 8) {
            assert_eq!(c.validate(), Ok(()));
        }
    }

    #[test]
    fn orbit_parsing() {
        assert_eq!(
            parse_orbit("120").unwrap(),
            OrbitSpec {
                frames: 120,
                radius: None,
                height: None
            }
        );
        assert_eq!(parse_orbit("4,2.5").unwrap().radius, Some(2.5));
        assert_eq!(parse_orbit("4,2.5,-1").unwrap().height, Some(-1.0));
        for bad in ["0", "-1", "x", "4,0", "4,-2", "4,1,nan", "4,1,2,3", ""] {
            assert!(parse_orbit(bad).is_err(), "{bad}");
        }
        assert!(parse_up("0,0,0").is_err());
        assert!(parse_up("0,1").is_err());
        assert_eq!(parse_up("0, 0, 1").unwrap(), [0.0, 0.0, 1.0]);
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
        let cams = parse_nerfstudio(&v).unwrap();
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
                r#"{"render_width": 8, "render_height": 8, "camera_path": [{"camera_to_world": [1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}]}"#,
                "fov",
            ),
            (
                r#"{"render_width": 8, "render_height": 8, "camera_path": [{"camera_to_world": [2,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1], "fov": 50}]}"#,
                "orthonormal",
            ),
        ] {
            let v: Value = serde_json::from_str(bad).unwrap();
            let err = parse_nerfstudio(&v).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
