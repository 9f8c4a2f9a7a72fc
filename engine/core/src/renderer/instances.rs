//! Several splat objects in one frame: instances of scenes with a transform and an opacity.
//!
//! A frame of instances preprocesses each instance into its own range of the frame's one
//! projected array (instance k's splat i is the frame's splat `first_k + i`, with `first_k`
//! the splat counts of the instances before it), then sorts, emits, tile-sorts and blends the
//! whole array once: one global depth order, so interleaved objects blend correctly.
//!
//! Invariants: the object → camera matrix is `world_to_camera · transform` and the SH view
//! direction is the direction from the camera centre to the splat in the object's frame
//! (the camera centre mapped by `transform⁻¹`), so a transformed instance renders like the
//! same splats transformed on the CPU (means, covariances, SH rotated). An instance whose
//! transform is exactly the identity and whose opacity is 1 uses the camera unchanged, so a
//! frame of one such instance is the plain frame bit for bit.

use vksplat_io::Camera;

use super::GpuScene;
use crate::error::CoreError;

/// The identity transform.
pub const IDENTITY: [[f32; 4]; 4] = [
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, 1.0],
];

/// One object of a frame: a scene placed in the world.
#[derive(Clone, Copy)]
pub struct Instance<'a> {
    pub scene: &'a GpuScene,
    /// Object → world, row-major (`transform[row][column]`, translation in column 3, last row
    /// 0 0 0 1). Any invertible affine map: rotation, translation, uniform or non-uniform
    /// scale, shear.
    pub transform: [[f32; 4]; 4],
    /// Multiplies every splat's opacity (after the sigmoid), in 0..=1; 0 hides the object.
    pub opacity: f32,
}

impl<'a> Instance<'a> {
    /// `scene` as it is (identity transform, opacity 1).
    pub fn of(scene: &'a GpuScene) -> Self {
        Instance {
            scene,
            transform: IDENTITY,
            opacity: 1.0,
        }
    }

    /// Checks the transform (finite, affine, invertible) and the opacity (finite, in 0..=1);
    /// `index` names the instance in the message.
    pub fn validate(&self, index: usize) -> Result<(), CoreError> {
        let bad = |why: String| CoreError::InvalidRequest(format!("instance {index}: {why}"));
        let m = &self.transform;
        if m.iter().flatten().any(|v| !v.is_finite()) {
            return Err(bad("the transform has a non-finite value".into()));
        }
        if m[3] != [0.0, 0.0, 0.0, 1.0] {
            return Err(bad(format!(
                "the transform's last row is {:?}; an affine transform's is [0, 0, 0, 1]",
                m[3]
            )));
        }
        let a = linear_part(m);
        let det = det3(&a);
        let scale = a.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs()));
        // Relative to the matrix's size, so a uniformly tiny (but invertible) scale passes.
        // (The values are finite, so `det` is a number.)
        if det.abs() <= 1e-12 * scale.powi(3) || scale == 0.0 {
            return Err(bad(format!(
                "the transform is not invertible (determinant {det:e} of its 3x3 part)"
            )));
        }
        if !(0.0..=1.0).contains(&self.opacity) {
            return Err(bad(format!(
                "opacity {} is outside 0..=1 (or not a number)",
                self.opacity
            )));
        }
        Ok(())
    }

    /// The object → camera rows (3 × 4) and the camera centre in object coordinates, for
    /// `camera`; the camera's own when the transform is the identity.
    pub(super) fn view(&self, camera: &Camera) -> ([[f32; 4]; 3], [f32; 3]) {
        let v = &camera.world_to_camera;
        let c = camera.position();
        if self.transform == IDENTITY {
            return ([v[0], v[1], v[2]], c);
        }
        let m = &self.transform;
        let mut rows = [[0.0f32; 4]; 3];
        for (r, row) in rows.iter_mut().enumerate() {
            for (col, out) in row.iter_mut().enumerate() {
                let s: f64 = (0..4)
                    .map(|k| f64::from(v[r][k]) * f64::from(m[k][col]))
                    .sum();
                *out = s as f32;
            }
        }
        // transform⁻¹(c) = A⁻¹ (c − t) by the adjugate, in f64.
        let a = linear_part(m);
        let d = [0, 1, 2].map(|i| f64::from(c[i]) - f64::from(m[i][3]));
        let inv = inverse3(&a);
        let obj = [0, 1, 2].map(|i| (0..3).map(|k| inv[i][k] * d[k]).sum::<f64>() as f32);
        (rows, obj)
    }
}

fn linear_part(m: &[[f32; 4]; 4]) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|r| [0, 1, 2].map(|c| f64::from(m[r][c])))
}

fn det3(a: &[[f64; 3]; 3]) -> f64 {
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
}

fn inverse3(a: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = det3(a);
    let cof =
        |r0: usize, r1: usize, c0: usize, c1: usize| a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0];
    // inv[i][j] = cofactor(j, i) / det.
    [
        [cof(1, 2, 1, 2), -cof(0, 2, 1, 2), cof(0, 1, 1, 2)],
        [-cof(1, 2, 0, 2), cof(0, 2, 0, 2), -cof(0, 1, 0, 2)],
        [cof(1, 2, 0, 1), -cof(0, 2, 0, 1), cof(0, 1, 0, 1)],
    ]
    .map(|row| row.map(|v| v / det))
}

/// Checks a frame's instances (at least one, each by [`Instance::validate`]) and returns
/// their splat count ([`total_splats`]); every entry point of instances calls it.
pub(super) fn check_instances(instances: &[Instance]) -> Result<u32, CoreError> {
    if instances.is_empty() {
        return Err(CoreError::InvalidRequest(
            "a frame of instances needs at least one instance".into(),
        ));
    }
    for (k, inst) in instances.iter().enumerate() {
        inst.validate(k)?;
    }
    total_splats(instances)
}

/// The frame's splat count of `instances` (their sum), refused when it does not fit a u32.
pub(super) fn total_splats(instances: &[Instance]) -> Result<u32, CoreError> {
    instances
        .iter()
        .try_fold(0u32, |n, i| n.checked_add(i.scene.num_splats))
        .ok_or_else(|| {
            CoreError::TooLarge(format!(
                "{} instances hold more than {} splats together",
                instances.len(),
                u32::MAX
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_range_loop)] // a matrix product reads clearest with indices
    fn inverse_undoes_the_matrix() {
        let a = [[0.0, -2.0, 0.0], [1.0, 0.0, 0.5], [0.0, 0.0, 3.0]];
        let inv = inverse3(&a);
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                assert!(
                    (p - f64::from(u8::from(i == j))).abs() < 1e-12,
                    "{i} {j} {p}"
                );
            }
        }
    }
}
