//! The automatic camera (a view of the whole scene when the host gives no camera) and the
//! robust scene box that it and the orbit frame.
//!
//! Rule: look along +z (OpenCV axes, identity rotation) at the centre of the box spanned by the
//! 5th and 95th percentiles of the splat centres on each axis, from far enough on the −z side
//! that this box fits a 60° horizontal field of view (and the matching vertical one) with a 10 %
//! margin. Percentiles instead of min/max keep a few stray splats from shrinking the subject to
//! a dot. Only splats whose centre is finite count. An empty scene (or one without a finite
//! centre) gets a camera at the origin looking down +z.
//!
//! Intrinsics: fx = fy = w / (2 tan 30°), principal point at the image centre.

use super::Camera;
use crate::Splats;

/// Half the horizontal field of view of the automatic and the orbit cameras.
pub(super) const HALF_FOV_X_DEG: f64 = 30.0;
/// Extra room around the percentile box (1.1 = 10 %).
const MARGIN: f64 = 1.1;
/// Percentiles of the box that must be in view.
const LOW_PERCENTILE: f64 = 0.05;
const HIGH_PERCENTILE: f64 = 0.95;

/// The value at fraction `p` of `values` (nearest rank); `values` must be non-empty.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    let last = values.len() - 1;
    let rank = ((last as f64) * p).round() as usize;
    let (_, v, _) = values.select_nth_unstable_by(rank.min(last), f64::total_cmp);
    *v
}

/// The 5th–95th percentile box of the finite splat centres, per axis: (centre, half extents);
/// None when no centre is finite. Robust to the far outliers trained scenes carry.
pub fn scene_box(splats: &Splats) -> Option<([f64; 3], [f64; 3])> {
    let mut axes: [Vec<f64>; 3] = Default::default();
    for m in splats
        .means
        .iter()
        .filter(|m| m.iter().all(|v| v.is_finite()))
    {
        for (axis, &v) in axes.iter_mut().zip(m) {
            axis.push(f64::from(v));
        }
    }
    if axes[0].is_empty() {
        return None;
    }
    let mut centre = [0.0f64; 3];
    let mut half = [0.0f64; 3];
    for a in 0..3 {
        let lo = percentile(&mut axes[a], LOW_PERCENTILE);
        let hi = percentile(&mut axes[a], HIGH_PERCENTILE);
        centre[a] = 0.5 * (lo + hi);
        half[a] = 0.5 * (hi - lo);
    }
    Some((centre, half))
}

/// A camera named `auto` that frames `splats` in a `width`×`height` image (see the module
/// docs). Always valid for sizes [`Camera::validate`] accepts.
pub fn auto_camera(splats: &Splats, width: u32, height: u32) -> Camera {
    let tan_x = HALF_FOV_X_DEG.to_radians().tan();
    let focal = f64::from(width) / (2.0 * tan_x);
    let identity = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let mut camera = Camera::centred("auto".into(), width, height, focal, identity);

    let Some((centre, half)) = scene_box(splats) else {
        return camera;
    };

    // Distance from the box's near face at which both half extents fit the frustum.
    let tan_y = tan_x * f64::from(height) / f64::from(width);
    let mut fit = (half[0] / tan_x).max(half[1] / tan_y) * MARGIN;
    if fit.is_nan() || fit <= 0.0 {
        // All centres (nearly) coincide: back off enough to see the splats themselves.
        let size = f64::from(splats.stats().scale_median) * 3.0;
        let scale_of_scene = 1e-3 * (1.0 + centre.iter().map(|c| c.abs()).fold(0.0, f64::max));
        fit = (size / tan_x.min(tan_y)).max(scale_of_scene) * MARGIN;
    }
    let position = [centre[0], centre[1], centre[2] - half[2] - fit];
    if position
        .iter()
        .any(|v| !v.is_finite() || v.abs() > f64::from(f32::MAX) / 2.0)
    {
        return camera;
    }
    // world_to_camera = [I | −position].
    for (row, p) in camera.world_to_camera.iter_mut().zip(position) {
        row[3] = -p as f32;
    }
    camera
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::tests::{project, splats_at};

    #[test]
    fn empty_scene_is_origin_looking_forward() {
        let c = auto_camera(&Splats::default(), 1280, 720);
        assert_eq!(c.position(), [0.0, 0.0, 0.0]);
        assert_eq!(c.world_to_camera[2][2], 1.0);
        assert!((c.fx - 1280.0 / (2.0 * 30f32.to_radians().tan())).abs() < 1e-3);
        assert_eq!(c.fx, c.fy);
        assert_eq!((c.cx, c.cy), (640.0, 360.0));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn box_corners_are_in_view_and_outliers_ignored() {
        let mut means = Vec::new();
        for i in 0..1000 {
            let t = i as f32 / 999.0;
            means.push([
                10.0 + 4.0 * t - 2.0,
                -3.0 + (t * 7.0).sin(),
                5.0 + 2.0 * (t * 3.0).cos(),
            ]);
        }
        means.push([1e6, 1e6, -1e6]);
        means.push([f32::NAN, 0.0, 0.0]);
        let c = auto_camera(&splats_at(means.clone()), 640, 480);
        assert_eq!(c.validate(), Ok(()));
        let p = c.position();
        assert!((p[0] - 10.0).abs() < 0.1, "{p:?}");
        // Every inlier projects inside the image, in front of the camera.
        for m in &means[..1000] {
            let (x, y, z) = project(&c, *m);
            assert!(z > 0.0);
            assert!((-0.05 * 640.0..=1.05 * 640.0).contains(&x), "{x}");
            assert!((-0.05 * 480.0..=1.05 * 480.0).contains(&y), "{y}");
        }
        // ... and the box is not tiny in the image.
        let (x0, _, _) = project(&c, [8.2, -3.0, 5.0]);
        let (x1, _, _) = project(&c, [11.8, -3.0, 5.0]);
        assert!(x1 - x0 > 0.5 * 640.0, "{x0} {x1}");
    }

    #[test]
    fn single_splat_is_in_front() {
        let c = auto_camera(&splats_at(vec![[1.0, 2.0, 3.0]]), 100, 100);
        assert_eq!(c.validate(), Ok(()));
        let (x, y, z) = project(&c, [1.0, 2.0, 3.0]);
        assert!(z > 0.0);
        assert!((x - 50.0).abs() < 1e-3 && (y - 50.0).abs() < 1e-3);
    }

    #[test]
    fn huge_coordinates_do_not_overflow() {
        let c = auto_camera(
            &splats_at(vec![[-3e38, 0.0, 3e38], [3e38, 0.0, -3e38]]),
            64,
            64,
        );
        assert_eq!(c.validate(), Ok(()));
        assert!(c.position().iter().all(|v| v.is_finite()));
    }
}
