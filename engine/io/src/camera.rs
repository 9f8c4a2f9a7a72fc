//! Cameras: camera files, and the cameras a host computes from a scene.
//!
//! Three file forms are accepted; the first two are detected per object by which keys it has:
//!
//! 1. **Explicit**: `{"width","height","fx","fy","cx","cy","world_to_camera"}`
//!    with a row-major 4×4 world-to-camera matrix in OpenCV axes, optional
//!    `"name"`.
//! 2. **INRIA `cameras.json`**: `{"id","img_name","width","height",
//!    "position","rotation","fx","fy"}` where `rotation` is the
//!    camera-to-world rotation R given as rows and `position` the camera
//!    centre p. Then world_to_camera = [Rᵀ | −Rᵀp] and the principal point
//!    is the image centre.
//! 3. **nerfstudio `camera_path.json`**, recognised by its `camera_path` or `keyframes` key:
//!    entry i of `camera_path` is camera i (`nerfstudio.rs` has the conversion).
//!
//! A file of the first two forms holds one such object or a non-empty list of them. Every
//! camera returned has passed [`Camera::validate`]; the conversion is done in f64 so
//! that an orthonormal input stays orthonormal to f32 precision.
//!
//! Cameras from game engines and graphics APIs (projection and view matrices, Unity, Unreal)
//! are converted in `engines.rs` ([`camera_from_clip`], [`unity_camera`], [`unreal_camera`]).
//!
//! Computed cameras: [`auto_camera`] frames a scene from its −z side, [`orbit`] is a turntable
//! around it; both frame the robust [`scene_box`] of the splat centres and are deterministic
//! (the same scene gives bit-identical cameras).

use std::path::Path;

use serde_json::{Map, Value};

use crate::IoError;

mod auto;
mod engines;
mod nerfstudio;
mod orbit;

pub use auto::{auto_camera, scene_box};
pub use engines::{
    camera_from_clip, clip_matrices, unity_camera, unreal_camera, ClipCamera, ClipConvention,
    UNITY_FROM_SCENE, UNREAL_FROM_SCENE,
};
pub use orbit::{orbit, OrbitSpec};

/// How camera space maps to pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Projection {
    /// Pinhole: pixel = (fx·x/z + cx, fy·y/z + cy).
    #[default]
    Perspective,
    /// Parallel rays along the camera's z axis: pixel = (fx·x + cx, fy·y + cy), so `fx`, `fy`
    /// are pixels per world unit and a splat's size does not change with its depth.
    Orthographic,
}

impl Projection {
    /// The camera-file name (`"projection"` key).
    pub fn name(self) -> &'static str {
        match self {
            Projection::Perspective => "perspective",
            Projection::Orthographic => "orthographic",
        }
    }

    pub fn parse(name: &str) -> Option<Projection> {
        [Projection::Perspective, Projection::Orthographic]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// A camera with OpenCV axes: pinhole, or orthographic ([`Projection`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Camera {
    /// `img_name`, `name`, or "camera N" (N = index in the file).
    pub name: String,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Focal length in pixels, x.
    pub fx: f32,
    /// Focal length in pixels, y.
    pub fy: f32,
    /// Principal point x in pixels.
    pub cx: f32,
    /// Principal point y in pixels.
    pub cy: f32,
    /// Row-major 4x4 world->camera transform, OpenCV axes (x right, y down, z forward).
    pub world_to_camera: [[f32; 4]; 4],
    /// Perspective (the default) or orthographic.
    pub projection: Projection,
}

/// Largest accepted image side ([`Camera::validate`]).
pub const MAX_SIDE: u32 = 32768;
/// Largest accepted pixel count, 2^28 ([`Camera::validate`]); the C API reports it in its
/// limits.
pub const MAX_PIXELS: u64 = 1 << 28;

impl Camera {
    /// A camera with square pixels (`fx = fy = focal`) and the principal point at the image
    /// centre: what the automatic camera, the orbit and nerfstudio paths make.
    pub fn centred(
        name: String,
        width: u32,
        height: u32,
        focal: f64,
        world_to_camera: [[f32; 4]; 4],
    ) -> Camera {
        Camera {
            name,
            width,
            height,
            fx: focal as f32,
            fy: focal as f32,
            cx: width as f32 / 2.0,
            cy: height as f32 / 2.0,
            world_to_camera,
            projection: Projection::Perspective,
        }
    }

    /// Rescale to a new image size: fx,cx scale by new_w/old_w; fy,cy by new_h/old_h.
    ///
    /// A camera with a zero width or height yields non-finite intrinsics,
    /// which [`Camera::validate`] rejects; nothing panics.
    pub fn rescaled(&self, width: u32, height: u32) -> Camera {
        let sx = f64::from(width) / f64::from(self.width);
        let sy = f64::from(height) / f64::from(self.height);
        Camera {
            width,
            height,
            fx: (f64::from(self.fx) * sx) as f32,
            cx: (f64::from(self.cx) * sx) as f32,
            fy: (f64::from(self.fy) * sy) as f32,
            cy: (f64::from(self.cy) * sy) as f32,
            ..self.clone()
        }
    }

    /// Camera centre in world space (−Rᵀt).
    pub fn position(&self) -> [f32; 3] {
        let m = &self.world_to_camera;
        let mut c = [0.0f32; 3];
        for (j, cj) in c.iter_mut().enumerate() {
            let s: f64 = (0..3)
                .map(|i| f64::from(m[i][j]) * f64::from(m[i][3]))
                .sum();
            *cj = -s as f32;
        }
        c
    }

    /// Validates: width,height in 1..=32768, width*height <= 2^28, fx,fy finite > 0, cx,cy finite, matrix finite, last row (0,0,0,1) within 1e-4, rotation part orthonormal within 1e-3. Err(String) explains.
    ///
    /// A rotation part with determinant −1 (a mirror) is also rejected: it is
    /// orthonormal but would silently render a mirrored image.
    pub fn validate(&self) -> Result<(), String> {
        for (what, v) in [("width", self.width), ("height", self.height)] {
            if !(1..=MAX_SIDE).contains(&v) {
                return Err(format!("{what} {v} is outside 1..={MAX_SIDE}"));
            }
        }
        let pixels = u64::from(self.width) * u64::from(self.height);
        if pixels > MAX_PIXELS {
            return Err(format!(
                "{}x{} is {pixels} pixels, more than the limit of {MAX_PIXELS}",
                self.width, self.height
            ));
        }
        for (what, v) in [("fx", self.fx), ("fy", self.fy)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{what} is {v}, must be finite and > 0"));
            }
        }
        for (what, v) in [("cx", self.cx), ("cy", self.cy)] {
            if !v.is_finite() {
                return Err(format!("{what} is {v}, must be finite"));
            }
        }
        let m = &self.world_to_camera;
        for (i, row) in m.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                if !v.is_finite() {
                    return Err(format!("world_to_camera[{i}][{j}] is {v}, must be finite"));
                }
            }
        }
        let last = [0.0, 0.0, 0.0, 1.0];
        if m[3].iter().zip(last).any(|(a, b)| (a - b).abs() > 1e-4) {
            return Err(format!(
                "world_to_camera last row is {:?}, expected [0, 0, 0, 1]",
                m[3]
            ));
        }
        // R Rᵀ = I for an orthonormal rotation part.
        let mut worst = 0.0f64;
        for i in 0..3 {
            for j in 0..3 {
                let dot: f64 = (0..3)
                    .map(|k| f64::from(m[i][k]) * f64::from(m[j][k]))
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                worst = worst.max((dot - want).abs());
            }
        }
        if worst > 1e-3 {
            return Err(format!(
                "world_to_camera rotation part is not orthonormal (R·Rᵀ deviates from the \
                 identity by {worst:.3e}; tolerance 1e-3)"
            ));
        }
        let r = |i: usize, j: usize| f64::from(m[i][j]);
        let det = r(0, 0) * (r(1, 1) * r(2, 2) - r(1, 2) * r(2, 1))
            - r(0, 1) * (r(1, 0) * r(2, 2) - r(1, 2) * r(2, 0))
            + r(0, 2) * (r(1, 0) * r(2, 1) - r(1, 1) * r(2, 0));
        if det < 0.0 {
            return Err("world_to_camera rotation part is a reflection (determinant -1)".into());
        }
        Ok(())
    }
}

/// The cameras of a camera file, in order, and the frame rate the file declares.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraPath {
    /// Every camera, validated.
    pub cameras: Vec<Camera>,
    /// A nerfstudio path's `fps` as the EXR `framesPerSecond` rational (n/1 for whole rates,
    /// n·1000/1001 for the NTSC rates, else to a thousandth); `None` for the other forms and
    /// for a missing or unusable rate.
    pub frames_per_second: Option<(i32, u32)>,
}

/// Reads and validates a camera file of any form: explicit, INRIA `cameras.json` or a
/// nerfstudio `camera_path.json` (see [`load_camera_path`]).
pub fn load_cameras(path: &Path) -> Result<Vec<Camera>, IoError> {
    load_camera_path(path).map(|p| p.cameras)
}

/// Reads and validates a camera file of any form, with its frame rate: one camera or a list
/// (explicit or INRIA form, see the module docs), or a nerfstudio `camera_path.json` whose
/// entry i is camera i. Errors are input errors naming the file.
pub fn load_camera_path(path: &Path) -> Result<CameraPath, IoError> {
    parse_camera_path(&read_camera_file(path)?, path)
}

/// [`load_camera_path`] on text held in memory; `path_for_errors` only labels errors.
pub fn parse_camera_path(json: &str, path_for_errors: &Path) -> Result<CameraPath, IoError> {
    match serde_json::from_str::<Value>(json) {
        Ok(v) if nerfstudio::is_nerfstudio(&v) => Ok(CameraPath {
            cameras: nerfstudio::parse(&v)
                .map_err(|m| IoError::input(path_for_errors, format!("camera path: {m}")))?,
            frames_per_second: nerfstudio::frames_per_second(&v),
        }),
        _ => Ok(CameraPath {
            cameras: parse_cameras(json, path_for_errors)?,
            frames_per_second: None,
        }),
    }
}

/// Reads a camera file's text: only a regular file is read (a FIFO, device or directory is an
/// input error before anything blocks), into fallibly allocated memory. For readers of other
/// camera forms (camera paths) too.
pub fn read_camera_file(path: &Path) -> Result<String, IoError> {
    crate::input::read_text(path)
}

/// Parses and validates camera JSON of the explicit or INRIA form held in memory;
/// `path_for_errors` only labels error messages.
pub fn parse_cameras(json: &str, path_for_errors: &Path) -> Result<Vec<Camera>, IoError> {
    parse(json).map_err(|m| IoError::input(path_for_errors, m))
}

fn parse(json: &str) -> Result<Vec<Camera>, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let objects: Vec<&Value> = match &value {
        Value::Array(items) if items.is_empty() => {
            return Err("the camera list is empty".into());
        }
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&value],
        _ => return Err("expected a camera object or a list of camera objects".into()),
    };
    objects
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let obj = v
                .as_object()
                .ok_or_else(|| format!("camera {index}: expected a JSON object"))?;
            let camera = parse_one(obj, index)?;
            camera
                .validate()
                .map_err(|e| format!("camera {index} ('{}'): {e}", camera.name))?;
            Ok(camera)
        })
        .collect()
}

/// Typed field access for one camera object; errors name field and index.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    index: usize,
}

impl Fields<'_> {
    fn get(&self, key: &str) -> Result<&Value, String> {
        self.obj
            .get(key)
            .ok_or_else(|| format!("camera {}: missing field '{key}'", self.index))
    }

    fn number(&self, key: &str) -> Result<f64, String> {
        number(self.get(key)?)
            .ok_or_else(|| format!("camera {}: field '{key}' must be a number", self.index))
    }

    fn size(&self, key: &str) -> Result<u32, String> {
        let v = self.number(key)?;
        if v.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&v) {
            return Err(format!(
                "camera {}: field '{key}' must be a non-negative integer, got {v}",
                self.index
            ));
        }
        Ok(v as u32)
    }

    /// A `rows`×`cols` matrix given as a list of rows.
    fn matrix(&self, key: &str, rows: usize, cols: usize) -> Result<Vec<Vec<f64>>, String> {
        let bad = || {
            format!(
                "camera {}: field '{key}' must be {rows} rows of {cols} numbers",
                self.index
            )
        };
        let outer = self.get(key)?.as_array().ok_or_else(bad)?;
        if outer.len() != rows {
            return Err(bad());
        }
        outer
            .iter()
            .map(|row| {
                let row = row.as_array().filter(|r| r.len() == cols).ok_or_else(bad)?;
                row.iter().map(|v| number(v).ok_or_else(bad)).collect()
            })
            .collect()
    }

    fn vector(&self, key: &str, len: usize) -> Result<Vec<f64>, String> {
        let bad = || {
            format!(
                "camera {}: field '{key}' must be a list of {len} numbers",
                self.index
            )
        };
        let list = self
            .get(key)?
            .as_array()
            .filter(|l| l.len() == len)
            .ok_or_else(bad)?;
        list.iter().map(|v| number(v).ok_or_else(bad)).collect()
    }

    /// Optional `"projection"`: "perspective" (the default) or "orthographic".
    fn projection(&self) -> Result<Projection, String> {
        match self.obj.get("projection") {
            None | Some(Value::Null) => Ok(Projection::Perspective),
            Some(Value::String(s)) => Projection::parse(s).ok_or_else(|| {
                format!(
                    "camera {}: projection '{s}' unknown (perspective or orthographic)",
                    self.index
                )
            }),
            Some(_) => Err(format!(
                "camera {}: field 'projection' must be a string (perspective or orthographic)",
                self.index
            )),
        }
    }

    /// Optional name: a string (or a number, as some tools write ids).
    fn name(&self, key: &str) -> Result<Option<String>, String> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!(
                "camera {}: field '{key}' must be a string",
                self.index
            )),
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn parse_one(obj: &Map<String, Value>, index: usize) -> Result<Camera, String> {
    let f = Fields { obj, index };
    let explicit = obj.contains_key("world_to_camera");
    let inria = obj.contains_key("position") || obj.contains_key("rotation");
    if !explicit && !inria {
        return Err(format!(
            "camera {index}: missing field 'world_to_camera' (or 'position' and 'rotation' for \
             the INRIA cameras.json form)"
        ));
    }
    let width = f.size("width")?;
    let height = f.size("height")?;
    let fx = f.number("fx")? as f32;
    let fy = f.number("fy")? as f32;

    if explicit {
        let m = f.matrix("world_to_camera", 4, 4)?;
        let mut world_to_camera = [[0.0f32; 4]; 4];
        for (dst, src) in world_to_camera.iter_mut().zip(&m) {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s as f32;
            }
        }
        return Ok(Camera {
            name: f.name("name")?.unwrap_or_else(|| format!("camera {index}")),
            width,
            height,
            fx,
            fy,
            cx: f.number("cx")? as f32,
            cy: f.number("cy")? as f32,
            world_to_camera,
            projection: f.projection()?,
        });
    }

    let r = f.matrix("rotation", 3, 3)?;
    let p = f.vector("position", 3)?;
    // world_to_camera = [Rᵀ | −Rᵀ p]: row i of Rᵀ is column i of R.
    let mut world_to_camera = [[0.0f32; 4]; 4];
    for i in 0..3 {
        let mut t = 0.0f64;
        for j in 0..3 {
            world_to_camera[i][j] = r[j][i] as f32;
            t -= r[j][i] * p[j];
        }
        world_to_camera[i][3] = t as f32;
    }
    world_to_camera[3] = [0.0, 0.0, 0.0, 1.0];
    Ok(Camera {
        name: f
            .name("img_name")?
            .unwrap_or_else(|| format!("camera {index}")),
        width,
        height,
        fx,
        fy,
        cx: (f64::from(width) / 2.0) as f32,
        cy: (f64::from(height) / 2.0) as f32,
        world_to_camera,
        projection: f.projection()?,
    })
}

#[cfg(test)]
mod tests;
