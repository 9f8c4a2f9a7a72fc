//! Plugins on the command line: `vksplat plugins list|info NAME`, and the hooks that let
//! `vksplat render --plugin NAME [--param key=value …] [--time T] [--plugin-dir DIR]` render a
//! plugin's scene instead of a scene file (render.rs calls [`scene_path`], [`open`] and
//! [`upload`], and renders the returned [`Scene`] like any other; everything else about
//! rendering stays there).
//!
//! Every plugin or ABI failure (no manifest, missing library or entry point, ABI version or
//! layout mismatch, a plugin call that fails or panics, a shader that does not compile or
//! breaks the stage's rules, non-finite output, a bad `--param`) is [`CliError::Plugin`]:
//! exit code 4, with a message naming the plugin. So is a plugin the host refuses before
//! loading it (vksplat-plugin-host's `trust`): a library outside its manifest's directory, or
//! files others can change unless `--allow-insecure-plugins` (or
//! `VKSPLAT_ALLOW_INSECURE_PLUGINS=1`) turns that into a warning.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use vksplat_core::{CoreError, Renderer};
use vksplat_io::Splats;
use vksplat_plugin_host::{EvalPath, Instance, PluginError, Policy, Scene, SearchPath};

use crate::error::{stdout_error, CliError};
use crate::stderr::say;

/// `render`'s plugin flags.
#[derive(Args, Debug, Clone, Default)]
pub struct PluginArgs {
    /// Render a scene-variant plugin's scene (a manifest name or a path to NAME.vksplat.json);
    /// SCENE, if given, is the plugin's own input file. Without it, a SCENE file that a
    /// plugin's manifest says it reads ("reads") is rendered by that plugin; this overrides.
    #[arg(long, value_name = "NAME")]
    pub plugin: Option<String>,

    /// A plugin parameter (repeatable): a number, comma-separated floats for arrays
    /// (e.g. bones=1,0,0,0,…), or text for a text option (e.g. skeleton=rig.gltf).
    /// `vksplat plugins info NAME` lists them. Needs a plugin scene.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// The scene time a plugin scene is evaluated at, in the scene's own units (`vksplat info
    /// FILE` shows its range). No effect on static scenes.
    #[arg(
        long,
        value_name = "T",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub time: f64,

    /// Which path evaluates the plugin: its compute shader (gpu) or its CPU code (cpu).
    #[arg(long, value_enum, value_name = "auto|gpu|cpu", default_value_t = Eval::Auto)]
    pub plugin_eval: Eval,

    #[command(flatten)]
    pub dirs: PluginDirs,
}

/// `--plugin-dir`, shared by `render` and `plugins`.
#[derive(Args, Debug, Clone, Default)]
pub struct PluginDirs {
    /// A directory searched for plugin manifests (repeatable), before VKSPLAT_PLUGIN_PATH.
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,

    /// Load plugins even when others can change their files or directories (world-writable,
    /// writable by a foreign group, owned by another user), with a warning instead of exit
    /// code 4. Same as VKSPLAT_ALLOW_INSECURE_PLUGINS=1.
    #[arg(long = "allow-insecure-plugins")]
    pub allow_insecure: bool,
}

impl PluginDirs {
    fn search(&self) -> SearchPath {
        SearchPath::new(&self.plugin_dirs)
    }

    /// The plugin host's checks: strict unless the flag or the variable allows insecure
    /// plugins; its warnings go out like the CLI's.
    fn policy(&self) -> Policy {
        Policy {
            allow_insecure: self.allow_insecure
                || vksplat_plugin_host::trust::env_allows_insecure(),
            warn: crate::stderr::line,
        }
    }
}

/// `--plugin-eval`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Eval {
    #[default]
    Auto,
    Gpu,
    Cpu,
}

/// `vksplat plugins`.
#[derive(Args, Debug)]
pub struct PluginsArgs {
    #[command(subcommand)]
    pub command: PluginsCommand,
}

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// List the plugins on the search path (reads manifests only; runs no plugin code).
    List(PluginDirs),
    /// Load a plugin, open a default instance and print its parameters and paths.
    Info {
        /// The plugin's manifest name (or a path to its manifest).
        name: String,
        #[command(flatten)]
        dirs: PluginDirs,
    },
}

impl From<PluginError> for CliError {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::Core(CoreError::Vulkan(v)) => v.into(),
            PluginError::Core(c) => CliError::Render(c.to_string()),
            PluginError::Ambiguous(m) => CliError::Usage(m),
            other => CliError::Plugin(other.to_string()),
        }
    }
}

/// Runs `vksplat plugins`.
pub fn run(args: &PluginsArgs) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        PluginsCommand::List(dirs) => {
            let search = dirs.search();
            let found = search.discover();
            if found.is_empty() {
                let d: Vec<String> = search
                    .dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect();
                say!(
                    "no plugin manifests (*{}) in [{}]; add directories with --plugin-dir or {}",
                    vksplat_plugin_host::MANIFEST_SUFFIX,
                    d.join(", "),
                    vksplat_plugin_host::PLUGIN_PATH_VAR
                );
            }
            for f in found {
                let line = match &f.manifest {
                    Ok(m) => {
                        let mut status = Vec::new();
                        if !m.abi_supported() {
                            status.push(format!(
                                "incompatible: ABI {}, this vksplat loads {}..={}",
                                m.abi_version,
                                vksplat_abi::VKSPLAT_PLUGIN_ABI_MIN,
                                vksplat_abi::VKSPLAT_PLUGIN_ABI_VERSION
                            ));
                        }
                        match vksplat_plugin_host::trust::audit(m) {
                            Ok(a) if !a.insecure.is_empty() => status.push(format!(
                                "insecure, refused without --allow-insecure-plugins: {}",
                                a.insecure.join("; ")
                            )),
                            Ok(_) => {}
                            Err(_) if !m.library.exists() => {
                                status.push(format!("missing library {}", m.library.display()))
                            }
                            Err(e) => status.push(format!("refused: {e}")),
                        }
                        if let Some(winner) = &f.shadowed_by {
                            status.push(format!(
                                "shadowed by {} ({})",
                                winner.display(),
                                vksplat_plugin_host::SHADOWING_RULE
                            ));
                        }
                        let status = if status.is_empty() {
                            "ok".to_string()
                        } else {
                            status.join("; ")
                        };
                        format!(
                            "{}\t{}\tABI {}\t{}\t{}\t{}",
                            m.name,
                            m.version,
                            m.abi_version,
                            status,
                            m.path.display(),
                            m.description
                        )
                    }
                    Err(e) => format!("?\t-\t-\tinvalid manifest: {e}\t{}\t", f.path.display()),
                };
                writeln!(out, "{line}").map_err(stdout_error)?;
            }
            Ok(())
        }
        PluginsCommand::Info { name, dirs } => {
            let plugin = vksplat_plugin_host::load_with(&dirs.search(), name, &dirs.policy())?;
            let m = &plugin.manifest;
            let w = &mut out;
            let mut p = |s: String| writeln!(w, "{s}").map_err(stdout_error);
            p(format!("name: {}", m.name))?;
            p(format!("version: {}", plugin.version))?;
            p(format!("abi version: {}", plugin.abi_version))?;
            p(format!("manifest: {}", m.path.display()))?;
            p(format!("library: {}", m.library.display()))?;
            if !m.description.is_empty() {
                p(format!("description: {}", m.description))?;
            }
            for r in &m.reads {
                p(format!("reads: {}", describe_matcher(r)))?;
            }
            let inst = Instance::open(plugin.clone(), None, &[])?;
            let d = &inst.desc;
            let mut paths = Vec::new();
            if d.has_gpu {
                paths.push("gpu");
            }
            if d.has_cpu {
                paths.push("cpu");
            }
            p(format!("paths: {}", paths.join(", ")))?;
            p(format!(
                "default instance: {} splats, SH degree {}, {}{}",
                d.splat_count,
                d.sh_degree,
                if d.covariance {
                    "covariance per splat"
                } else {
                    "rotation + scale per splat"
                },
                if d.opacity_scale {
                    ", opacity multiplier"
                } else {
                    ""
                }
            ))?;
            p("parameters:".into())?;
            if let Some((start, end)) = d.time_range {
                p(format!("time range: {start} .. {end}"))?;
            }
            for param in &d.params {
                let when = if param.open { "at open" } else { "per frame" };
                let kind = param.summary();
                p(format!(
                    "  {} ({when}): {kind} — {}",
                    param.name, param.description
                ))?;
            }
            Ok(())
        }
    }
}

/// A manifest's matcher in words, for `plugins info`.
fn describe_matcher(m: &vksplat_plugin_host::detect::Matcher) -> String {
    let mut parts = Vec::new();
    if m.directory {
        parts.push("a directory or frame pattern".to_string());
    }
    if let Some(s) = &m.suffix {
        parts.push(format!("name ending in {s}"));
    }
    if let Some(magic) = &m.magic {
        let hex: String = magic.iter().map(|b| format!("{b:02x}")).collect();
        parts.push(format!("starting with bytes {hex}"));
    }
    if !m.ply_properties.is_empty() {
        parts.push(format!(
            "PLY vertex properties {}",
            m.ply_properties.join(" ")
        ));
    }
    if !m.npz_arrays.is_empty() {
        parts.push(format!("npz arrays {}", m.npz_arrays.join(" ")));
    }
    parts.join(", ")
}

/// A plugin opened for `render`, before the device exists.
pub struct Opened {
    instance: Instance,
    eval: Eval,
}

/// Which plugin renders `scene`: `--plugin`, else the plugin whose manifest says it reads the
/// file ([`vksplat_plugin_host::detect()`]: manifests and the file's first bytes only, no plugin
/// code), else `None` (a static scene file). Two plugins that read it: exit 2.
pub fn choose(args: &PluginArgs, scene: Option<&Path>) -> Result<Option<Choice>, CliError> {
    if let Some(name) = &args.plugin {
        return Ok(Some(Choice::Named(name.clone())));
    }
    let Some(scene) = scene else {
        return Ok(None);
    };
    Ok(vksplat_plugin_host::detect(&args.dirs.search(), scene)?.map(Choice::Detected))
}

/// The plugin of a plugin scene.
#[derive(Clone, Debug)]
pub enum Choice {
    /// `--plugin NAME` (a name or a manifest path).
    Named(String),
    /// Found by content.
    Detected(vksplat_plugin_host::Manifest),
}

impl Choice {
    pub fn name(&self) -> &str {
        match self {
            Choice::Named(n) => n,
            Choice::Detected(m) => &m.name,
        }
    }

    fn load(
        &self,
        dirs: &PluginDirs,
    ) -> Result<std::sync::Arc<vksplat_plugin_host::Plugin>, CliError> {
        let policy = dirs.policy();
        Ok(match self {
            Choice::Named(name) => vksplat_plugin_host::load_with(&dirs.search(), name, &policy)?,
            Choice::Detected(m) => vksplat_plugin_host::Plugin::load(m, &policy)?,
        })
    }
}

/// `--param KEY=VALUE` pairs, trimmed.
pub fn parse_params(plugin: &str, params: &[String]) -> Result<Vec<(String, String)>, CliError> {
    params
        .iter()
        .map(|p| {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                CliError::Plugin(format!("plugin '{plugin}': --param '{p}' is not KEY=VALUE"))
            })?;
            Ok((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Loads the chosen plugin and opens an instance on `source` with `--param`s (no device).
pub fn open_instance(
    choice: &Choice,
    args: &PluginArgs,
    source: Option<&Path>,
) -> Result<Instance, CliError> {
    let params = parse_params(choice.name(), &args.params)?;
    let plugin = choice.load(&args.dirs)?;
    let source = source.map(|s| s.to_string_lossy().into_owned());
    Ok(Instance::open(plugin, source.as_deref(), &params)?)
}

/// What render.rs uses as the scene's name: the plugin's source or `plugin:NAME` when a
/// plugin is given (so no sample scene or sample camera is picked up); `None` otherwise.
pub fn scene_path(args: &PluginArgs, scene: Option<&Path>) -> Option<PathBuf> {
    let name = args.plugin.as_ref()?;
    Some(scene.map_or_else(
        || PathBuf::from(format!("plugin:{name}")),
        Path::to_path_buf,
    ))
}

/// Opens the chosen plugin with its `--param`s (`scene`, if given, is the plugin's own input
/// file); `None` without a plugin. Also returns splats that stand for the plugin's scene at
/// `time` when an automatic or orbit camera frames it (see
/// [`vksplat_plugin_host::scene::framing_splats`]).
pub fn open(
    choice: Option<&Choice>,
    args: &PluginArgs,
    scene: Option<&Path>,
    time: f64,
) -> Result<Option<(Opened, Splats)>, CliError> {
    let Some(choice) = choice else {
        return Ok(None);
    };
    let mut instance = open_instance(choice, args, scene)?;
    let splats = vksplat_plugin_host::scene::framing_splats(&mut instance, time)?;
    let opened = Opened {
        instance,
        eval: args.plugin_eval,
    };
    Ok(Some((opened, splats)))
}

/// A plugin-host error in `render`: an engine failure is classified like the engine's own
/// (`core_err` names the inputs), anything else is the plugin's (exit code 4).
pub fn render_error(e: PluginError, core_err: impl Fn(CoreError) -> CliError) -> CliError {
    match e {
        PluginError::Core(c) => core_err(c),
        other => other.into(),
    }
}

/// Puts the scene on the device: the file's splats (`antialiased` as the file says), or the
/// opened plugin's scene (compiling and validating its shader on the GPU path).
pub fn upload(
    renderer: &Renderer,
    splats: &Splats,
    antialiased: bool,
    plugin: Option<Opened>,
    core_err: impl Fn(CoreError) -> CliError,
) -> Result<Scene, CliError> {
    let scene = match plugin {
        None => Scene::upload(renderer, splats, antialiased),
        Some(o) => {
            let path = match o.eval {
                Eval::Auto => EvalPath::Auto,
                Eval::Gpu => EvalPath::Gpu,
                Eval::Cpu => EvalPath::Cpu,
            };
            Scene::open_variant(renderer, o.instance, path)
        }
    };
    scene.map_err(|e| render_error(e, core_err))
}
