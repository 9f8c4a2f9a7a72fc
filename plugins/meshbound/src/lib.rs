//! `meshbound`: Gaussians bound to the triangles of a deforming mesh (the README's
//! "Mesh-bound Gaussians").
//!
//! Sources: a binding PLY (`face_index` plus per-kind fields, see [`source::read_binding`])
//! with `mesh=REST.obj|.gltf|.glb`; or a skinned glTF alone, sampled exactly as the skinned
//! plugin samples it (same `splats_per_triangle` and `seed` ⇒ the same splats) and bound to
//! its triangles.
//!
//! Deformed vertices per frame, first that applies: the host's `vertices` array (V × 3, the
//! rest mesh's order), `vertex_file` (.npy/.npz [T, V, 3] or numbered OBJs, frame t·fps,
//! linear between frames, clamped), the glTF animation of the mesh file (skinned vertices), else the rest
//! mesh.
//!
//! Per frame the host computes the deformed vertices, then the face pass ([`bind::face_pass`],
//! O(V + F), on the host: the vertices are made there anyway) writes one record per face
//! (its vertices, frame, scale, and for SplattingAvatar the vertex normals and quaternions),
//! uploaded as the frame buffer; the splat pass, one dispatch of `meshbound.comp` or
//! [`bind::splat`] on the CPU (the same arithmetic), reads each splat's face record and
//! writes means, rotations and log-scales.

pub mod bind;
pub mod native;
pub mod source;
pub mod splattingavatar;

use std::ffi::CString;
use std::path::{Path, PathBuf};

use bind::Kind;
use source::{Bound, Mesh};
use vksplat_plugin_sdk::abi::*;
use vksplat_plugin_sdk::{
    export_plugin, Description, Error, FrameInput, GpuStage, Param, Plugin, Shader, SplatArrays,
    SplatData,
};
use vksplat_plugin_sdk::{int_option, option};

const SHADER: &str = include_str!("meshbound.comp");

/// Most splats an instance makes or reads.
pub const MAX_SPLATS: usize = 16_000_000;
/// Most vertices of the rest mesh (the `vertices` parameter's element limit).
pub const MAX_VERTICES: usize = 4_000_000;
/// Most triangles of the rest mesh (a face record is at most 128 bytes; the frame buffer's
/// size is a u32).
pub const MAX_FACES: usize = 8_000_000;
/// Bound of every host-supplied vertex coordinate.
const VERTEX_LIMIT: f64 = 1e7;

const PARAMS: [Param; 10] = [
    Param::text(
        c"mesh",
        c"binding PLY source: the rest mesh (.obj or .ply, or a skinned or morphed .gltf/.glb whose animation drives it)",
    ),
    Param::int(
        c"splats_per_triangle",
        c"glTF source: splats sampled on each triangle (as the skinned plugin)",
        1,
        10_000,
        8,
    )
    .at_open(),
    Param::int(c"seed", c"glTF source: random seed of the sampling", 0, 2_147_483_647, 1).at_open(),
    Param::text(
        c"animation",
        c"the glTF animation played at the frame's time, by name or index (default: the first)",
    ),
    Param::text(
        c"vertex_file",
        c"a .npy/.npz vertex sequence [T, V, 3] (npz: array 'vertices') or numbered OBJ/PLY meshes (frame_####.obj|.ply), frame t * fps, linear between frames",
    ),
    Param::float(c"fps", c"frames per second of vertex_file", 1e-3, 1e4, 30.0).at_open(),
    Param::text(
        c"sugar",
        c"SuGaR binding: rest (default; scales as stored) or editable (in-plane scales follow the face area)",
    ),
    Param::array(
        c"vertices",
        c"this frame's deformed vertices, x y z per vertex of the rest mesh (overrides every other source)",
        3,
        1,
        MAX_VERTICES as u32,
        -VERTEX_LIMIT,
        VERTEX_LIMIT,
    ),
    Param::int(c"rest_pose", c"1: ignore animations and vertex files (rest mesh)", 0, 1, 0).at_open(),
    Param::text(
        c"embedding",
        c"SplattingAvatar: its embedding.json for a point_cloud.ply source (default: embedding.json beside a PLY without binding fields)",
    ),
];

/// Where the deformed vertices come from when the host gives none.
enum Stream {
    Rest,
    Gltf(Box<vksplat_rig::Model>, Option<usize>),
    /// Frames of V × 3 floats and their rate.
    Sequence(Vec<f32>, f64),
}

/// One instance.
pub struct Meshbound {
    mesh: Mesh,
    bound: Bound,
    editable: bool,
    stream: Stream,
    time_range: Option<(f64, f64)>,
    rest_faces: bind::RestFaces,
    shader: CString,
}

fn head(path: &Path) -> Result<Vec<u8>, Error> {
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(head[..n].to_vec())
}

/// SplattingAvatar's `embedding.json` for a PLY source: `embedding=` when given, else an
/// `embedding.json` beside a PLY that has no binding fields (`face_index`, `binding_0`).
fn splattingavatar_embedding(
    path: &Path,
    options: &[(&str, &str)],
) -> Result<Option<PathBuf>, Error> {
    if let Some(e) = option(options, "embedding") {
        return Ok(Some(PathBuf::from(e)));
    }
    let beside = path.with_file_name("embedding.json");
    if !beside.is_file() {
        return Ok(None);
    }
    let info = vksplat_io::ply::read_vertex_info(path).map_err(|e| e.to_string())?;
    let bound = info.has_all(&["face_index"]) || info.has_all(&["binding_0"]);
    Ok((!bound).then_some(beside))
}

fn load_gltf(path: &Path) -> Result<vksplat_rig::Model, Error> {
    vksplat_rig::load(path).map_err(|e| e.to_string())
}

impl Plugin for Meshbound {
    const NAME: &'static std::ffi::CStr = c"meshbound";
    const VERSION: &'static std::ffi::CStr = c"0.1.0";
    const HAS_GPU: bool = true;
    const HAS_CPU: bool = true;

    fn open(source: Option<&str>, options: &[(&str, &str)]) -> Result<Self, Error> {
        let source = source.ok_or(
            "needs a source file: a binding PLY with --param mesh=REST.obj|.gltf, or a skinned glTF/GLB",
        )?;
        let path = Path::new(source);
        let editable = match option(options, "sugar").map(str::trim) {
            None | Some("rest") => false,
            Some("editable") => true,
            Some(v) => return Err(format!("'sugar={v}': expected rest or editable")),
        };
        let rest_pose = int_option(options, "rest_pose", 0, 1)? == 1;
        let h = head(path)?;
        let embedding = if h.starts_with(b"ply") {
            splattingavatar_embedding(path, options)?
        } else {
            None
        };
        let (mesh, bound, model) = if let Some(embedding) = embedding {
            let (mesh, bound) = splattingavatar::read(
                path,
                &embedding,
                option(options, "mesh").map(Path::new),
                MAX_SPLATS,
            )?;
            (mesh, bound, None)
        } else if h.starts_with(b"ply") {
            let mesh_path = option(options, "mesh").ok_or_else(|| {
                format!("{source}: a binding PLY needs --param mesh=REST.obj|.gltf (the mesh its faces refer to)")
            })?;
            let mp = Path::new(mesh_path);
            let (mesh, model) = if vksplat_rig::looks_like_gltf(&head(mp)?) {
                let model = load_gltf(mp)?;
                (source::gltf_mesh(&model), Some(model))
            } else {
                (source::read_mesh_file(mp)?, None)
            };
            if mesh.face_count() == 0 {
                return Err(format!("{mesh_path}: the mesh has no triangles"));
            }
            let bound = source::read_binding(path, &mesh, MAX_SPLATS)?;
            (mesh, bound, model)
        } else if vksplat_rig::looks_like_gltf(&h) {
            if option(options, "mesh").is_some() {
                return Err(format!(
                    "{source}: mesh= is for binding PLY sources; a glTF source is its own mesh"
                ));
            }
            let model = load_gltf(path)?;
            let mesh = source::gltf_mesh(&model);
            let k = int_option(options, "splats_per_triangle", 8, 10_000)?.max(1) as usize;
            let seed = int_option(options, "seed", 1, u32::MAX as u64)?;
            let bound = source::sample_gltf(&model, &mesh, k, seed, MAX_SPLATS)
                .map_err(|m| format!("{source}: {m}"))?;
            (mesh, bound, Some(model))
        } else if vksplat_io::torch::looks_like_zip(&h)
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pt") || e.eq_ignore_ascii_case("pth"))
        {
            // A SuGaR or GaMeS checkpoint holds its own mesh.
            if option(options, "mesh").is_some() {
                return Err(format!(
                    "{source}: mesh= is for binding PLY sources; a SuGaR/GaMeS checkpoint holds its mesh"
                ));
            }
            let (mesh, bound) = native::read_checkpoint(path, MAX_SPLATS)?;
            (mesh, bound, None)
        } else {
            return Err(format!(
                "{source}: neither a binding PLY, a SuGaR/GaMeS checkpoint (.pt) nor a glTF/GLB file"
            ));
        };
        if mesh.vertex_count() > MAX_VERTICES {
            return Err(format!(
                "the rest mesh has {} vertices, more than {MAX_VERTICES}",
                mesh.vertex_count()
            ));
        }
        if mesh.face_count() > MAX_FACES {
            return Err(format!(
                "the rest mesh has {} triangles, more than {MAX_FACES}",
                mesh.face_count()
            ));
        }
        let mut time_range = None;
        let stream = match (option(options, "vertex_file"), model, rest_pose) {
            (_, _, true) => Stream::Rest,
            (Some(file), _, false) => {
                let fps = match option(options, "fps") {
                    None => 30.0,
                    Some(v) => v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x > 0.0)
                        .ok_or_else(|| format!("'fps={v}': expected a positive number"))?,
                };
                let lower = file.to_ascii_lowercase();
                let frames = if lower.ends_with(".obj") || lower.ends_with(".ply") {
                    source::read_mesh_sequence(file, &mesh)?
                } else {
                    source::read_sequence(Path::new(file), mesh.vertex_count())?
                };
                let t = frames.len() / mesh.vertices.len();
                time_range = Some((0.0, (t - 1) as f64 / fps));
                Stream::Sequence(frames, fps)
            }
            (None, Some(model), false) => {
                let animation = match option(options, "animation") {
                    Some(name) => Some(
                        model
                            .rig
                            .find_animation(name.trim())
                            .map_err(|m| format!("{}: {m}", model.path.display()))?,
                    ),
                    None => (!model.rig.animations.is_empty()).then_some(0),
                };
                time_range = animation.map(|a| model.rig.time_range(a));
                Stream::Gltf(Box::new(model), animation)
            }
            (None, None, false) => Stream::Rest,
        };
        let rest_faces = bind::RestFaces::new(&mesh.vertices, &mesh.faces);
        let shader = CString::new(format!("#version 450\n{SHADER}"))
            .map_err(|e| format!("shader source: {e}"))?;
        let out = Meshbound {
            mesh,
            bound,
            editable,
            stream,
            time_range,
            rest_faces,
            shader,
        };
        // Evaluate the first frame now: broken vertex data fails at open, not mid-render.
        out.frame_data(time_range.map_or(0.0, |r| r.0), &[])?;
        Ok(out)
    }

    fn describe(&self) -> Description<'_> {
        let b = &self.bound;
        Description {
            splat_count: b.count as u64,
            sh_degree: b.sh_degree,
            covariance: false,
            opacity_scale: false,
            outputs: VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_ROTATIONS | VKSPLAT_OUTPUT_LOG_SCALES,
            params: PARAMS.to_vec(),
            initial: SplatData {
                opacity_logits: Some(&b.opacity_logits),
                sh: Some(&b.sh),
                ..Default::default()
            },
            time_range: self.time_range,
        }
    }

    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        Ok(GpuStage {
            name: c"meshbound.comp",
            shader: Shader::Glsl(&self.shader),
            push_constant_size: 16,
            buffers: vec![(c"rest", bytes_of(&self.bound.rest))],
            frame_buffer_size: (self.frame_floats() * 4) as u32,
            invocations: self.bound.count as u64,
        })
    }

    fn gpu_frame(
        &mut self,
        input: &FrameInput,
        push: &mut [u8],
        frame: &mut [u8],
    ) -> Result<(), Error> {
        let data = self.frame_data(input.time, input.array("vertices"))?;
        let words = [
            self.bound.count as u32,
            self.bound.kind as u32,
            self.mesh.face_count() as u32,
            self.editable as u32,
        ];
        for (dst, w) in push.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        for (dst, v) in frame.chunks_exact_mut(4).zip(&data) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        let data = self.frame_data(input.time, input.array("vertices"))?;
        let missing = || "the host did not pass the declared output arrays".to_string();
        let means = out.means.as_deref_mut().ok_or_else(missing)?;
        let rots = out.rotations.as_deref_mut().ok_or_else(missing)?;
        let scales = out.log_scales.as_deref_mut().ok_or_else(missing)?;
        for (i, r) in self.bound.rest.chunks_exact(bind::REST).enumerate() {
            let (m, q, s) = bind::splat(self.bound.kind, self.editable, r, &data);
            means[3 * i..3 * i + 3].copy_from_slice(&m);
            rots[4 * i..4 * i + 4].copy_from_slice(&q);
            scales[3 * i..3 * i + 3].copy_from_slice(&s);
        }
        Ok(())
    }
}

impl Meshbound {
    /// Floats of frame data: one face record per face.
    fn frame_floats(&self) -> usize {
        bind::face_stride(self.bound.kind) * self.mesh.face_count()
    }

    /// This frame's face records ([`bind::face_pass`]) from the deformed vertices (checked
    /// finite).
    fn frame_data(&self, time: f64, given: &[f32]) -> Result<Vec<f32>, Error> {
        let n = self.mesh.vertices.len();
        let v = if !given.is_empty() {
            if given.len() != n {
                return Err(format!(
                    "vertices: {} vertices given, the rest mesh has {} (the same topology is required)",
                    given.len() / 3,
                    n / 3
                ));
            }
            given.to_vec()
        } else {
            match &self.stream {
                Stream::Rest => self.mesh.vertices.clone(),
                Stream::Gltf(model, animation) => source::gltf_vertices(model, *animation, time)
                    .map_err(|m| format!("{}: {m}", model.path.display()))?,
                Stream::Sequence(frames, fps) => {
                    let count = frames.len() / n;
                    let x = (time * fps).clamp(0.0, (count - 1) as f64);
                    let f0 = x.floor() as usize;
                    let f1 = (f0 + 1).min(count - 1);
                    let u = (x - f0 as f64) as f32;
                    let (a, b) = (&frames[n * f0..n * (f0 + 1)], &frames[n * f1..n * (f1 + 1)]);
                    a.iter().zip(b).map(|(a, b)| a + (b - a) * u).collect()
                }
            }
        };
        if let Some(k) = v.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "vertices at t={time}: vertex {} is not finite",
                k / 3
            ));
        }
        Ok(bind::face_pass(
            self.bound.kind,
            &v,
            &self.mesh.faces,
            &self.rest_faces,
        ))
    }

    /// The binding kind.
    pub fn kind(&self) -> Kind {
        self.bound.kind
    }
}

fn bytes_of(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding or invalid bit patterns as bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

export_plugin!(Meshbound);
