//! A turntable of cameras around a scene (`vksplat render --orbit`).
//!
//! The vector math is glam's f64 `DVec3`, whose products, sums and square roots are the plain
//! IEEE operations in a fixed order: the cameras a farm renders are bit-identical from run to
//! run (their EXR files record them).

use glam::DVec3;

use super::auto::{scene_box, HALF_FOV_X_DEG};
use super::Camera;
use crate::Splats;

/// Orbit parameters: how many cameras, and optionally their distance from the axis and their
/// height along it (see [`orbit`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitSpec {
    pub frames: u32,
    pub radius: Option<f64>,
    pub height: Option<f64>,
}

/// A turntable of `spec.frames` cameras around the scene, `width`×`height`, 60° horizontal
/// field of view, principal point at the centre.
///
/// Centre: the middle of the 5th–95th percentile box of the splat centres (as the automatic
/// camera, [`super::auto_camera`]). `up` (a non-zero vector; −y is the image-up direction of
/// the automatic camera) is the turntable axis. Camera i, named `orbit i/N`, sits at angle
/// 2π·i/N around it, `radius` from the axis (default: far enough that the box's bounding
/// sphere fits the view with a 10 % margin) and `height` along `up` from the centre (default
/// 0), looking at the centre. Camera 0 is on the −z side, like the automatic camera; the orbit
/// turns counter-clockwise seen from above (from +up).
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
    let (centre, half) = scene_box(splats).unwrap_or(([0.0; 3], [1.0; 3]));
    let (centre, half) = (DVec3::from(centre), DVec3::from(half));
    let r_sphere = half.length().max(1e-3 * (1.0 + centre.length()));
    let fit = r_sphere / tan_x.min(tan_y).atan().sin() * 1.1;
    let radius = spec.radius.unwrap_or(fit);
    let h = spec.height.unwrap_or(0.0);
    let up = DVec3::from(up).normalize();
    // Camera 0 direction from the centre: −z projected onto the plane normal to `up`.
    let mut back = DVec3::NEG_Z - up * DVec3::NEG_Z.dot(up);
    if back.length_squared() < 1e-12 {
        back = DVec3::X - up * DVec3::X.dot(up);
    }
    let back = back.normalize();
    let side = up.cross(back);
    (0..spec.frames)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / f64::from(spec.frames);
            let dir = back * a.cos() + side * a.sin();
            let pos = centre + dir * radius + up * h;
            let z = (centre - pos).normalize();
            let x = (-up).cross(z).normalize();
            let y = z.cross(x);
            let mut w2c = [[0.0f32; 4]; 4];
            for (row, axis) in w2c.iter_mut().zip([x, y, z]) {
                let [ax, ay, az] = axis.as_vec3().to_array();
                *row = [ax, ay, az, -axis.dot(pos) as f32];
            }
            w2c[3] = [0.0, 0.0, 0.0, 1.0];
            Camera::centred(
                format!("orbit {i}/{}", spec.frames),
                width,
                height,
                focal,
                w2c,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::tests::{project, splats_at};

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
        let s = splats_at(means.clone());
        let spec = OrbitSpec {
            frames: 8,
            radius: None,
            height: None,
        };
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
        assert_eq!(cams[3].name, "orbit 3/8");
        // Camera 0 is on the −z side looking down +z, like the automatic camera.
        let p0 = cams[0].position();
        assert!(p0[2] < 3.0, "{p0:?}");
        assert!((cams[0].world_to_camera[2][2] - 1.0).abs() < 1e-5);
        // Camera 4 is opposite.
        let p4 = cams[4].position();
        assert!(p4[2] > 7.0, "{p4:?}");
        // Explicit radius and height.
        let spec = OrbitSpec {
            frames: 4,
            radius: Some(10.0),
            height: Some(2.0),
        };
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
        // An up axis along z (no −z direction left in the plane) still gives valid cameras.
        for c in orbit(&s, &spec, [0.0, 0.0, -3.0], 8, 8) {
            assert_eq!(c.validate(), Ok(()), "{}", c.name);
        }
    }

    /// The cameras of a tilted orbit, bit for bit as the scalar f64 implementation this one
    /// replaced computed them (farm outputs record them, and reruns must match).
    #[test]
    fn orbit_cameras_are_pinned_bit_for_bit() {
        let s = splats_at(vec![[1.0, 2.0, 3.0], [-2.0, 0.5, 7.0], [0.25, -1.0, 4.0]]);
        let spec = OrbitSpec {
            frames: 3,
            radius: None,
            height: Some(0.75),
        };
        let c = &orbit(&s, &spec, [0.2, -1.0, 0.1], 160, 90)[1];
        let bits = c.world_to_camera.map(|row| row.map(f32::to_bits));
        assert_eq!(
            bits,
            [
                [3204563435, 3162031561, 1063036142, 3230778626],
                [3188287040, 1065169469, 3179009889, 3196200241],
                [3210345757, 3189134839, 3204504481, 1095315470],
                [0, 0, 0, 1065353216],
            ]
        );
        assert_eq!(c.fx.to_bits(), 1124765799);
    }
}
