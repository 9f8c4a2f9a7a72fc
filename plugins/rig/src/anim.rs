//! Animation samplers (glTF 2.0 "Animations" and Appendix C, "Interpolation").
//!
//! Times outside a sampler's keys clamp to its first or last key. LINEAR interpolates
//! translation and scale linearly and rotation by spherical linear interpolation along the
//! shorter arc; STEP holds a key's value until the next key; CUBICSPLINE is the cubic Hermite
//! spline with the tangents scaled by the key interval, its rotation normalised after.
//! Morph target weights (path `weights`) are keys of one float per target, interpolated
//! component by component like translation (LINEAR, STEP, CUBICSPLINE with one in- and
//! out-tangent per weight).

use glam::{DQuat, DVec3};

/// How a sampler interpolates between keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    Linear,
    Step,
    CubicSpline,
}

/// The node property a channel animates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    Translation,
    Rotation,
    Scale,
    /// The morph target weights of the node's mesh.
    Weights,
}

/// Keys: times (increasing) and values (`components` floats per key — for a `weights`
/// channel, one float per morph target, whatever the accessor's type; CUBICSPLINE keys hold
/// in-tangents, values, out-tangents).
#[derive(Clone, Debug)]
pub struct Sampler {
    pub times: Vec<f32>,
    pub values: Vec<f32>,
    pub components: usize,
    pub interpolation: Interpolation,
}

/// One animated property of one node.
#[derive(Clone, Debug)]
pub struct Channel {
    pub node: usize,
    pub property: Property,
    pub sampler: usize,
}

/// A glTF animation.
#[derive(Clone, Debug)]
pub struct Animation {
    pub name: Option<String>,
    pub channels: Vec<Channel>,
    pub samplers: Vec<Sampler>,
}

impl Animation {
    /// First and last key time over the samplers its channels use (0, 0 without channels).
    pub fn time_range(&self) -> (f64, f64) {
        let mut range: Option<(f64, f64)> = None;
        for c in &self.channels {
            let t = &self.samplers[c.sampler].times;
            let (a, b) = (t[0] as f64, t[t.len() - 1] as f64);
            range = Some(range.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
        }
        range.unwrap_or((0.0, 0.0))
    }
}

impl Sampler {
    /// The key interval holding `t` (clamped) and the fraction within it.
    fn locate(&self, t: f64) -> (usize, usize, f64, f64) {
        let times = &self.times;
        let last = times.len() - 1;
        if t <= times[0] as f64 {
            return (0, 0, 0.0, 0.0);
        }
        if t >= times[last] as f64 {
            return (last, last, 0.0, 0.0);
        }
        // First key after t; times[k0] <= t < times[k1].
        let k1 = times.partition_point(|&x| x as f64 <= t);
        let k0 = k1 - 1;
        let dt = times[k1] as f64 - times[k0] as f64;
        let u = if dt > 0.0 {
            (t - times[k0] as f64) / dt
        } else {
            0.0
        };
        (k0, k1, u, dt)
    }

    /// Key `k`'s `n` floats (for CUBICSPLINE: part 0 in-tangents, 1 values, 2 out-tangents).
    fn at(&self, k: usize, part: usize, n: usize) -> &[f32] {
        let per = if self.interpolation == Interpolation::CubicSpline {
            3
        } else {
            1
        };
        let o = (k * per + if per == 3 { part } else { 0 }) * n;
        &self.values[o..o + n]
    }

    /// The sampled value at `t` as 3 or 4 doubles (rotation: x, y, z, w as stored).
    pub fn sample(&self, t: f64, rotation: bool) -> [f64; 4] {
        let mut out = [0f64; 4];
        let n = self.components.min(4);
        self.sample_into(t, rotation, &mut out[..n]);
        out
    }

    /// The sampled value at `t` of keys of `out.len()` floats each, written to `out`. The
    /// caller has checked that the values hold that many floats per key (and part).
    pub fn sample_into(&self, t: f64, rotation: bool, out: &mut [f64]) {
        let n = out.len();
        let (k0, k1, u, dt) = self.locate(t);
        let v0 = self.at(k0, 1, n);
        if k0 == k1 || self.interpolation == Interpolation::Step {
            for (d, &x) in out.iter_mut().zip(v0) {
                *d = x as f64;
            }
            return;
        }
        let v1 = self.at(k1, 1, n);
        match self.interpolation {
            Interpolation::Linear if rotation && n == 4 => {
                let q = |v: &[f32]| {
                    DQuat::from_xyzw(v[0] as f64, v[1] as f64, v[2] as f64, v[3] as f64)
                };
                out.copy_from_slice(&slerp(q(v0), q(v1), u).to_array());
            }
            // (STEP returned above.)
            Interpolation::Linear | Interpolation::Step => {
                for c in 0..n {
                    let (a, b) = (v0[c] as f64, v1[c] as f64);
                    out[c] = a + (b - a) * u;
                }
            }
            Interpolation::CubicSpline => {
                let b0 = self.at(k0, 2, n); // out-tangents of k0
                let a1 = self.at(k1, 0, n); // in-tangents of k1
                let (u2, u3) = (u * u, u * u * u);
                let h00 = 2.0 * u3 - 3.0 * u2 + 1.0;
                let h10 = u3 - 2.0 * u2 + u;
                let h01 = -2.0 * u3 + 3.0 * u2;
                let h11 = u3 - u2;
                for c in 0..n {
                    out[c] = h00 * v0[c] as f64
                        + h10 * dt * b0[c] as f64
                        + h01 * v1[c] as f64
                        + h11 * dt * a1[c] as f64;
                }
                if rotation && n == 4 {
                    let q = DQuat::from_slice(out);
                    let len = q.length();
                    if len > 0.0 {
                        out.copy_from_slice(&(q / len).to_array());
                    }
                }
            }
        }
    }
}

/// Spherical linear interpolation along the shorter arc (falls back to normalised linear
/// interpolation for nearly equal rotations, where slerp's division loses precision).
/// Keys need not be unit quaternions (files round them); both are normalised first, so the
/// angle between them is the rotation's.
pub(crate) fn slerp(q0: DQuat, q1: DQuat, u: f64) -> DQuat {
    let (q0, mut q1) = (unit(q0), unit(q1));
    let mut d = q0.dot(q1);
    if d < 0.0 {
        q1 = -q1;
        d = -d;
    }
    if d > 1.0 - 1e-12 {
        return (q0 + (q1 - q0) * u).normalize();
    }
    let theta = d.clamp(-1.0, 1.0).acos();
    let s = theta.sin();
    let a = ((1.0 - u) * theta).sin() / s;
    let b = (u * theta).sin() / s;
    (q0 * a + q1 * b).normalize()
}

fn unit(q: DQuat) -> DQuat {
    let len = q.length();
    if len > 0.0 {
        q / len
    } else {
        DQuat::IDENTITY
    }
}

/// Applies an animation's channels at `t` to local transforms (translation, rotation, scale).
pub(crate) fn apply(anim: &Animation, t: f64, locals: &mut [(DVec3, DQuat, DVec3)]) {
    for c in &anim.channels {
        if c.property == Property::Weights {
            continue; // morph weights do not move nodes (see `Rig::morph_weights`)
        }
        let s = &anim.samplers[c.sampler];
        let v = s.sample(t, c.property == Property::Rotation);
        let local = &mut locals[c.node];
        match c.property {
            Property::Translation => local.0 = DVec3::new(v[0], v[1], v[2]),
            Property::Rotation => {
                let q = DQuat::from_xyzw(v[0], v[1], v[2], v[3]);
                let len = q.length();
                // A zero quaternion in a file keeps the rest rotation rather than NaNs.
                if len > 0.0 {
                    local.1 = q / len;
                }
            }
            Property::Scale => local.2 = DVec3::new(v[0], v[1], v[2]),
            Property::Weights => {}
        }
    }
}
