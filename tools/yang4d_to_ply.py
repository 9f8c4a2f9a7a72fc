#!/usr/bin/env python3
"""Convert a checkpoint of Yang et al.'s native 4D Gaussians to the PLY vksplat reads.

The trainer of fudan-zvg/4d-gaussian-splatting saves `chkpnt*.pth` / `chkpnt_best.pth`: a
pickled `(capture(), iteration)` tuple whose capture holds the raw (pre-activation)
parameters. This tool writes them as the native 4D Gaussian PLY of vksplat's `dynamic4d`
plugin (field names of bevy_gaussian_splatting; see README.md, "Deformable 4D scenes"):

    x y z t st sx sy sz opacity rot_x rot_y rot_z rot_w rot_r_x rot_r_y rot_r_z rot_r_w
    feat_r_0.. feat_g_0.. feat_b_0..

with activated values (scales e^raw, opacity sigmoid(raw), quaternions normalised and
stored scalar part first) and the header line `comment time_range A B`: the training
config's `time_duration` (configs/*.yaml), which the checkpoint does not store. Models
trained without `rot_4d` are converted to the same form (a spatial rotation u = (w, x, y, z)
is q_l = q_r = (w, -z, -y, -x); the time variance e^raw becomes st = sqrt(e^raw)).

    python3 tools/yang4d_to_ply.py chkpnt_best.pth scene.ply --time-duration 0 10

Needs numpy, and torch to unpickle the checkpoint (CPU is enough).
"""

import argparse
import sys

import numpy as np

SCALARS = ["x", "y", "z", "t", "st", "sx", "sy", "sz", "opacity",
           "rot_x", "rot_y", "rot_z", "rot_w", "rot_r_x", "rot_r_y", "rot_r_z", "rot_r_w"]


def _unit(q):
    n = np.linalg.norm(q, axis=1, keepdims=True)
    if np.any(n == 0) or not np.all(np.isfinite(n)):
        raise ValueError("a quaternion is zero or not finite")
    return q / n


def write_ply(path, xyz, t, scaling, scaling_t, rotation, rotation_r, opacity, features,
              time_range, rot_4d=True):
    """Write the PLY from the checkpoint's raw arrays (numpy, any float type).

    xyz [N,3], t [N,1], scaling [N,3] (log), scaling_t [N,1] (log), rotation / rotation_r
    [N,4] (scalar first, unnormalised), opacity [N,1] (logit), features [N,K,3] (the
    concatenated _features_dc and _features_rest: coefficient k of channel c),
    time_range (A, B).
    """
    f64 = lambda a: np.asarray(a, dtype=np.float64)
    xyz, t, scaling, scaling_t = f64(xyz), f64(t).reshape(-1), f64(scaling), f64(scaling_t).reshape(-1)
    rotation, opacity, features = f64(rotation), f64(opacity).reshape(-1), f64(features)
    n = xyz.shape[0]
    k = features.shape[1]
    if features.shape != (n, k, 3) or k not in (1, 4, 9, 16, 32, 48):
        raise ValueError(f"features have shape {features.shape}; expected (N, K, 3), K in 1, 4, 9, 16, 32, 48")
    scales = np.exp(scaling)
    if rot_4d:
        q_l, q_r = _unit(rotation), _unit(f64(rotation_r))
        st = np.exp(scaling_t)
    else:
        u = _unit(rotation)
        q_l = np.stack([u[:, 0], -u[:, 3], -u[:, 2], -u[:, 1]], axis=1)
        q_r = q_l.copy()
        st = np.sqrt(np.exp(scaling_t))
    columns = [xyz[:, 0], xyz[:, 1], xyz[:, 2], t, st, scales[:, 0], scales[:, 1], scales[:, 2],
               1.0 / (1.0 + np.exp(-opacity)),
               q_l[:, 0], q_l[:, 1], q_l[:, 2], q_l[:, 3], q_r[:, 0], q_r[:, 1], q_r[:, 2], q_r[:, 3]]
    names = list(SCALARS)
    for c, channel in enumerate("rgb"):
        for i in range(k):
            names.append(f"feat_{channel}_{i}")
            columns.append(features[:, i, c])
    data = np.empty(n, dtype=[(name, "<f4") for name in names])
    for name, column in zip(names, columns):
        data[name] = column
    a, b = (float(v) for v in time_range)
    if not (np.isfinite(a) and np.isfinite(b) and a <= b):
        raise ValueError(f"time range {a} {b}: need finite A <= B")
    header = "ply\nformat binary_little_endian 1.0\n"
    header += f"comment time_range {a!r} {b!r}\n"
    header += f"element vertex {n}\n"
    header += "".join(f"property float {name}\n" for name in names)
    header += "end_header\n"
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(data.tobytes())


def from_capture(capture):
    """The raw arrays of a capture() tuple (gaussian_dim 4), as numpy."""
    if len(capture) < 17:
        raise ValueError(f"a capture of {len(capture)} items; a 4D model's has at least 17 "
                         "(gaussian_dim 3 checkpoints are static scenes)")
    arr = lambda v: v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
    features = np.concatenate([arr(capture[2]), arr(capture[3])], axis=1)
    return dict(xyz=arr(capture[1]), features=features, scaling=arr(capture[4]),
                rotation=arr(capture[5]), opacity=arr(capture[6]), t=arr(capture[13]),
                scaling_t=arr(capture[14]), rotation_r=arr(capture[15]),
                rot_4d=bool(capture[16]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="chkpnt*.pth of fudan-zvg/4d-gaussian-splatting")
    p.add_argument("output", help="the PLY to write")
    p.add_argument("--time-duration", nargs=2, type=float, required=True, metavar=("A", "B"),
                   help="the training config's time_duration (e.g. 0 1 for D-NeRF, 0 10 for N3V)")
    args = p.parse_args()
    import torch  # only the checkpoint needs it
    loaded = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    capture = loaded[0] if isinstance(loaded, tuple) and len(loaded) == 2 else loaded
    arrays = from_capture(capture)
    write_ply(args.output, time_range=args.time_duration, **arrays)
    n, k = arrays["features"].shape[:2]
    print(f"{args.output}: {n} splats, {k} SH coefficients per channel, "
          f"time range {args.time_duration[0]} .. {args.time_duration[1]}")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:
        sys.exit(f"yang4d_to_ply: {e}")
