//! File formats for vksplat: scenes in, cameras in, images out.
//!
//! * [`scene`]: every scene format, chosen by content — [`read_scene`] and
//!   [`write_scene`] for INRIA PLY, PlayCanvas compressed PLY, SPZ and `.splat`,
//!   all converted to vksplat's RDF frame (see the module docs for frames).
//! * [`gltf_container`]: the glTF 2.0 container (GLB chunks, buffers, accessors) for the glTF
//!   scene format and for other crates that read glTF.
//! * [`ply`]: INRIA 3D Gaussian Splatting PLY files, read into [`Splats`]
//!   (values unactivated, SH coefficient-major) and written back losslessly.
//! * [`camera`]: camera JSON, both the explicit world-to-camera form and the
//!   INRIA `cameras.json` form, converted to OpenCV-axis [`Camera`]s.
//! * [`image`]: 8-bit PNG and float32 OpenEXR writers (plus an EXR reader
//!   for tests and tools).
//! * [`numpy`]: NumPy `.npy` arrays and `.npz` archives (keyframe tracks, pose files).
//! * [`torch`]: PyTorch `.pt`/`.pth` checkpoints (zip format): a safe pickle reader and
//!   tensors read on demand (SuGaR and GaMeS files of the meshbound plugin).
//! * [`frame_pattern`]: numbered input sequences (`frame_####.ply`, `time_%05d.ply`).
//! * [`math`] and [`half`]: the scalar rules shared by every face (opacity
//!   sigmoid, quaternion normalisation, IEEE half floats), written once.
//!
//! Crate-wide rules:
//! * nothing panics on malformed input; every failure is an [`IoError`] whose
//!   message names the file and the problem;
//! * no allocation is sized by an unchecked count read from a file, and every
//!   buffer sized by a file or a flag is allocated fallibly ([`memory`]): too
//!   little host memory is [`IoError::OutOfMemory`], never an abort;
//! * inputs must be regular files: a FIFO, device, socket or directory is
//!   refused before it is read, so nothing blocks or reads forever;
//! * every file is written atomically (a unique temporary sibling created
//!   with O_EXCL|O_NOFOLLOW, fsync, rename), so a render farm never sees
//!   half-written outputs and a planted symbolic link is never followed
//!   (see `atomic.rs` for the rules on links, special files and stale
//!   temporary files).

#![forbid(unsafe_code)]

pub mod camera;
pub mod error;
mod formats;
pub mod frame_pattern;
pub mod gltf_container;
pub mod half;
pub mod image;
mod input;
pub mod math;
pub mod memory;
pub mod numpy;
pub mod ply;
pub mod scene;
mod splats;
pub mod torch;

mod atomic;

pub use atomic::{check_output_path, remove_temp_files_in_flight, write_bytes_atomic, NAME_MAX};
pub use camera::{
    auto_camera, load_camera_path, load_cameras, orbit, parse_camera_path, parse_cameras,
    scene_box, Camera, CameraPath, OrbitSpec, Projection,
};
pub use error::IoError;
pub use image::{
    read_exr, write_exr, write_exr_with, write_png, write_png_with_text, ExrColor, ExrCompression,
    ExrImage, ExrOptions, ExrValue,
};
pub use input::open_regular;
pub use ply::{read_ply, write_ply};
pub use scene::{
    parse_scene, read_scene, read_scene_checked, write_scene, write_scene_with, Axes, Check,
    CheckedScene, Format, InvalidSplats, OutputFormat, SceneFile, WriteOptions, WriteReport,
};
pub use splats::{SplatStats, Splats};

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the unit tests: scratch directories and a tiny
    //! deterministic random generator (no extra dependencies).

    use std::path::{Path, PathBuf};

    /// A scratch directory removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        /// A new directory; unique per call, so tests running in parallel (or one helper
        /// called from several tests) never share one.
        pub fn new(tag: &str) -> Self {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("vksplat-io-{}-{n}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create test directory");
            TempDir(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// xorshift64*: deterministic, good enough for test data.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Rng(seed.max(1))
        }

        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Uniform in [lo, hi).
        pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
            let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * u
        }
    }
}
