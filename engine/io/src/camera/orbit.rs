//! A turntable of cameras around a scene (`vksplat render --orbit`).
//!
//! The vector helpers work in f64 in a fixed operation order: the cameras a farm renders must
//! be bit-identical from run to run and release to release (their EXR files record them).

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
}
