//! The one scene model below every face (`vksplat_plugin_host::Scene`): static splats from a
//! file or from host arrays, and a plugin's variant scene, rendered through one
//! `render_many(views, time)`; the file's antialiasing flag picks the default mode; host
//! arrays can be written again; a variant scene is written only by its plugin. Also the
//! shared camera code (`vksplat_io::camera`), which the C API can use as the CLI does.

#[path = "plugin_support.rs"]
mod plugin_support;

use vksplat_core::{RenderMode, RenderSettings, SceneUpdate};
use vksplat_io::camera::{auto_camera, orbit, OrbitSpec};
use vksplat_io::scene::{read_scene_checked, InvalidSplats};
use vksplat_io::{Camera, Splats, WriteOptions};
use vksplat_plugin_host::{EvalPath, Instance, PluginError, Scene, SearchPath, VariantScene};
use vksplat_tests::{random_scene, Gpu, Rng};

/// Splats in front of a camera at (0, 0, -4) looking down +z: a box around the origin.
fn scene(n: usize) -> Splats {
    let mut s = random_scene(&mut Rng::new(7), n, 1);
    for m in &mut s.means {
        m[2] -= 4.0;
    }
    s
}

fn settings(mode: RenderMode) -> RenderSettings {
    RenderSettings {
        mode,
        background: [0.1, 0.2, 0.3],
        ..Default::default()
    }
}

/// Every array of `s`, as host arrays.
fn arrays(s: &Splats) -> SceneUpdate<'_> {
    SceneUpdate {
        means: Some(&s.means),
        rotations: Some(&s.rotations),
        log_scales: Some(&s.log_scales),
        opacity_logits: Some(&s.opacity_logits),
        sh: Some(&s.sh),
        ..Default::default()
    }
}

/// The RGBA of one view.
fn image(
    renderer: &mut vksplat_core::Renderer,
    scene: &mut Scene,
    cam: &Camera,
    mode: RenderMode,
    time: f64,
) -> Vec<f32> {
    scene
        .render(renderer, cam, &settings(mode), time)
        .unwrap()
        .0
        .rgba
}

/// Three views of different sizes: the automatic camera and two orbit cameras.
fn views(splats: &Splats) -> Vec<Camera> {
    let spec = OrbitSpec {
        frames: 4,
        radius: None,
        height: Some(0.5),
    };
    let mut v = vec![auto_camera(splats, 64, 48)];
    v.extend(
        orbit(splats, &spec, [0.0, -1.0, 0.0], 40, 40)
            .into_iter()
            .take(2),
    );
    v
}

#[test]
fn static_splats_render_many_views_as_each_view_alone() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = scene(400);
    let cams = views(&splats);
    let refs: Vec<&Camera> = cams.iter().collect();
    let s = settings(RenderMode::Classic);
    let mut scene = Scene::upload(&gpu.renderer, &splats, false).unwrap();
    assert_eq!((scene.len(), scene.sh_degree()), (400, 1));
    assert!(scene.variant().is_none());
    // One submission for all views (render_batch) ...
    let many = scene
        .render_many(&mut gpu.renderer, &refs, &s, 0.0)
        .unwrap();
    assert_eq!(many.len(), 3);
    // ... gives exactly the frames of one render per view; the time means nothing here.
    for (cam, (frame, _)) in cams.iter().zip(&many) {
        let (alone, stats) = scene.render(&mut gpu.renderer, cam, &s, 7.5).unwrap();
        assert_eq!((frame.width, frame.height), (cam.width, cam.height));
        assert!(stats.visible_splats > 0, "{}", cam.name);
        assert_eq!(frame.rgba, alone.rgba, "{}", cam.name);
        assert_eq!(frame.depth, alone.depth, "{}", cam.name);
    }
}

#[test]
fn the_files_antialiasing_flag_picks_the_default_mode() {
    let Some(mut gpu) = Gpu::new() else { return };
    let splats = scene(200);
    let dir = std::env::temp_dir().join(format!("vksplat-scene-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("aa.ply");
    let options = WriteOptions {
        antialiased: true,
        ..Default::default()
    };
    vksplat_io::write_scene(&path, &splats, vksplat_io::OutputFormat::Ply, &options).unwrap();
    let file = read_scene_checked(&path, InvalidSplats::Reject { hint: None })
        .unwrap()
        .file;
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(file.antialiased);
    let mut flagged = Scene::upload(&gpu.renderer, &file.splats, file.antialiased).unwrap();
    assert!(flagged.antialiased());
    assert_eq!(flagged.default_mode(), RenderMode::Antialiased);
    let plain = Scene::upload(&gpu.renderer, &file.splats, false).unwrap();
    assert_eq!(plain.default_mode(), RenderMode::Classic);

    // The default mode renders as asking for antialiased mode does, and differs from classic.
    let cam = auto_camera(&file.splats, 48, 32);
    let r = &mut gpu.renderer;
    let mode = flagged.default_mode();
    let default = image(r, &mut flagged, &cam, mode, 0.0);
    assert_eq!(
        default,
        image(r, &mut flagged, &cam, RenderMode::Antialiased, 0.0)
    );
    assert_ne!(
        default,
        image(r, &mut flagged, &cam, RenderMode::Classic, 0.0)
    );
}

#[test]
fn host_arrays_are_written_again_and_render_the_new_splats() {
    let Some(mut gpu) = Gpu::new() else { return };
    let a = scene(300);
    let mut b = a.clone();
    for m in &mut b.means {
        m[0] += 0.3;
    }
    let mut scene = Scene::from_arrays(&gpu.renderer, 300, 1, &arrays(&a)).unwrap();
    assert!(!scene.antialiased());
    assert_eq!(scene.default_mode(), RenderMode::Classic);
    let cam = auto_camera(&a, 48, 32);
    let classic = RenderMode::Classic;
    let first = image(&mut gpu.renderer, &mut scene, &cam, classic, 0.0);
    // The same splats uploaded from a file's Splats render identically.
    let mut uploaded = Scene::upload(&gpu.renderer, &a, false).unwrap();
    assert_eq!(
        image(&mut gpu.renderer, &mut uploaded, &cam, classic, 0.0),
        first
    );

    let only_means = SceneUpdate {
        means: Some(&b.means),
        ..Default::default()
    };
    scene.write(&gpu.renderer, &only_means).unwrap();
    let moved = image(&mut gpu.renderer, &mut scene, &cam, classic, 0.0);
    assert_ne!(moved, first);
    scene.write(&gpu.renderer, &arrays(&a)).unwrap();
    assert_eq!(
        image(&mut gpu.renderer, &mut scene, &cam, classic, 0.0),
        first
    );
}

#[test]
fn a_plugin_scene_renders_through_the_same_model() {
    let Some(mut gpu) = Gpu::new() else { return };
    let search = SearchPath {
        dirs: vec![plugin_support::plugin_dir().to_path_buf()],
    };
    let open = || {
        let plugin = vksplat_plugin_host::load(&search, "skinwave").unwrap();
        Instance::open(plugin, None, &[]).unwrap()
    };
    let mut framing = open();
    let splats = vksplat_plugin_host::scene::framing_splats(&mut framing, 0.3).unwrap();
    assert!(!splats.is_empty());
    let cams = views(&splats);
    let refs: Vec<&Camera> = cams.iter().collect();
    let s = settings(RenderMode::Classic);
    for path in [EvalPath::Gpu, EvalPath::Cpu] {
        let mut scene = Scene::open_variant(&gpu.renderer, open(), path).unwrap();
        assert!(!scene.antialiased());
        assert_eq!(scene.variant().map(VariantScene::path), Some(path));
        scene.evaluate(&gpu.renderer, 0.3).unwrap();
        let many = scene
            .render_many(&mut gpu.renderer, &refs, &s, 0.3)
            .unwrap();
        // The variant scene alone renders the same frames at the same time ...
        let mut direct = VariantScene::new(&gpu.renderer, open(), path).unwrap();
        for (cam, (frame, stats)) in cams.iter().zip(&many) {
            assert!(stats.visible_splats > 0, "{path:?} {}", cam.name);
            let (alone, _) = direct.render(&mut gpu.renderer, cam, &s, 0.3).unwrap();
            assert_eq!(frame.rgba, alone.rgba, "{path:?} {}", cam.name);
        }
        // ... and another time is another frame.
        let later = image(
            &mut gpu.renderer,
            &mut scene,
            &cams[0],
            RenderMode::Classic,
            1.7,
        );
        assert_ne!(later, many[0].0.rgba, "{path:?}");
        // Only the plugin writes a variant scene.
        let means = vec![[0.0f32; 3]; scene.len() as usize];
        let update = SceneUpdate {
            means: Some(&means),
            ..Default::default()
        };
        match scene.write(&gpu.renderer, &update) {
            Err(PluginError::Core(e)) => assert!(e.to_string().contains("skinwave"), "{e}"),
            other => panic!("{path:?}: {:?}", other.err()),
        }
    }
}
