//! The instances of a frame: a `VksplatSceneInstance` list, or one scene as the one identity
//! instance. Every frame entry point that takes scenes (`vksplat_render_instances`, the
//! GPU-output, submitted and recorded frames) reads them here once: each checked and named
//! by its index, each scene locked once (a scene may appear in several instances) in address
//! order so that two threads rendering the same scenes cannot deadlock, plugin scenes
//! evaluated at the frame's time before the frame, then handed to the renderer as
//! `vksplat_core::Instance`s.

use super::*;

/// A frame's instances with their scenes locked.
pub(crate) struct Instances<'a> {
    /// Per instance: the row-major object → world transform, the opacity, and the index of
    /// its scene in `guards`.
    items: Vec<([[f32; 4]; 4], f32, usize)>,
    guards: Vec<MutexGuard<'a, SceneInner>>,
}

impl<'a> Instances<'a> {
    /// Reads `count` instances (refused: a NULL or empty list, a NULL entry or scene, a short
    /// or wrong header, a scene of another context; transform and opacity are checked by the
    /// renderer, naming the instance) and locks their scenes.
    ///
    /// # Safety
    /// `instances` is NULL or points to `count` pointers, each NULL or a readable
    /// `VksplatSceneInstance` of `s_size` bytes whose `scene` is NULL or live for `'a`.
    pub(crate) unsafe fn read(
        c: &ContextHandle,
        instances: *const *const VksplatSceneInstance,
        count: u32,
    ) -> Result<Self> {
        if instances.is_null() || count == 0 {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "instances is NULL or count is 0 (a frame needs at least one instance)",
            );
        }
        // SAFETY: the caller guarantees `count` readable pointers.
        let ptrs = unsafe { std::slice::from_raw_parts(instances, count as usize) };
        let mut read = Vec::with_capacity(ptrs.len());
        for (k, &p) in ptrs.iter().enumerate() {
            let what = format!("instances[{k}]");
            if p.is_null() {
                return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("{what} is NULL"));
            }
            // SAFETY: the caller guarantees `s_size` readable bytes.
            let inst = unsafe { grow::read(p, &what)? };
            // SAFETY: the caller guarantees a live scene or NULL.
            let handle = unsafe { scene_ref(inst.scene) }
                .map_err(|e| Error(e.0, format!("{what}: {}", e.1)))?;
            if !Arc::ptr_eq(&c.inner, &handle.ctx) {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("{what}: the scene belongs to another context"),
                );
            }
            let t = inst.transform;
            let rows = [0, 1, 2, 3].map(|r| [t[4 * r], t[4 * r + 1], t[4 * r + 2], t[4 * r + 3]]);
            read.push((rows, inst.opacity, handle));
        }
        Ok(Self::lock(read))
    }

    /// One scene as the frame's one identity instance.
    pub(crate) fn single(c: &ContextHandle, scene: &'a SceneHandle) -> Result<Self> {
        if !Arc::ptr_eq(&c.inner, &scene.ctx) {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "the scene belongs to another context",
            );
        }
        Ok(Self::lock(vec![(vksplat_core::IDENTITY, 1.0, scene)]))
    }

    fn lock(read: Vec<([[f32; 4]; 4], f32, &'a SceneHandle)>) -> Self {
        let address = |h: &&SceneHandle| *h as *const SceneHandle as usize;
        let mut scenes: Vec<&SceneHandle> = read.iter().map(|r| r.2).collect();
        scenes.sort_by_key(address);
        scenes.dedup_by_key(|h| address(h));
        let items = read
            .iter()
            .map(|(t, o, h)| {
                let at = scenes
                    .iter()
                    .position(|s| std::ptr::eq(*s, *h))
                    .expect("every instance's scene is in the list");
                (*t, *o, at)
            })
            .collect();
        let guards = scenes.iter().map(|h| lock(&h.inner)).collect();
        Instances { items, guards }
    }

    /// The frame's settings from the descriptor; its mode, when the descriptor names none,
    /// is the first instance's scene's default.
    pub(crate) fn settings(&self, frame: &FrameArgs) -> RenderSettings {
        let first = &self.guards[self.items[0].2].scene;
        RenderSettings {
            mode: frame.mode.unwrap_or(first.default_mode()),
            background: frame.background,
            near: frame.near,
            far: frame.far,
            depth: frame.depth,
        }
    }

    /// Writes the splats of every plugin scene for this frame, once per scene: at the
    /// descriptor's time when it names one (which becomes the scene's time, as in
    /// `vksplat_render`), else at the scene's own time. The plugin runs in a submission of
    /// its own (GPU path) or on the CPU, before the frame, ordered after the frames already
    /// submitted on the context's queue.
    pub(crate) fn evaluate(&mut self, renderer: &Renderer, time: Option<f64>) -> Result<()> {
        for g in &mut self.guards {
            if let Some(t) = time {
                g.time = t;
            }
            if g.scene.variant().is_some() {
                let t = g.time;
                g.scene.evaluate(renderer, t)?;
            }
        }
        Ok(())
    }

    /// Refuses plugin scenes, naming the first instance of one, with `why`.
    pub(crate) fn refuse_plugins(&self, why: &str) -> Result<()> {
        match self
            .items
            .iter()
            .position(|i| self.guards[i.2].scene.variant().is_some())
        {
            Some(k) => err(VKSPLAT_ERROR_UNSUPPORTED, format!("instances[{k}]: {why}")),
            None => Ok(()),
        }
    }

    /// The renderer's instances.
    pub(crate) fn list(&self) -> Vec<vksplat_core::Instance<'_>> {
        self.items
            .iter()
            .map(|(transform, opacity, at)| vksplat_core::Instance {
                scene: self.guards[*at].scene.gpu(),
                transform: *transform,
                opacity: *opacity,
            })
            .collect()
    }
}
