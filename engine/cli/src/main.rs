//! `vksplat`: the command-line face of the engine. This file parses arguments and dispatches;
//! each command lives in its own module, errors are classified into exit codes in [`error`] and
//! the codes themselves are in [`exit`].

mod auto_camera;
mod bench;
mod camera_path;
mod convert;
mod devices;
mod error;
pub mod exit;
mod frames;
mod info;
mod output_pattern;
mod outputs;
mod plugins;
mod progress;
mod render;
mod signals;
mod stderr;

use crate::stderr::say;

use clap::{Parser, Subcommand};

use crate::error::CliError;

#[derive(Parser, Debug)]
#[command(
    name = "vksplat",
    version,
    about = "Headless Vulkan compute renderer for 3D Gaussian Splatting",
    after_help = exit::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render a scene to a PNG or EXR image.
    #[command(after_help = exit::HELP)]
    Render(render::RenderArgs),
    /// Print a scene's format, frame, antialias flag, count, SH degree, bounds, opacity and
    /// scale statistics.
    Info(info::InfoArgs),
    /// Convert a scene between INRIA PLY, compressed PLY, SPZ and .splat (format by the
    /// output's extension).
    #[command(after_help = exit::HELP)]
    Convert(convert::ConvertArgs),
    /// Time frames stage by stage with GPU timestamps (median/min of N), or the sort alone.
    Bench(bench::BenchArgs),
    /// List the Vulkan devices and whether vksplat can use them.
    Devices(devices::DevicesArgs),
    /// List scene-variant plugins, or describe one.
    #[command(after_help = exit::HELP)]
    Plugins(plugins::PluginsArgs),
}

fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Render(args) => render::run(args),
        Command::Info(args) => info::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Devices(args) => devices::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Plugins(args) => plugins::run(args),
    }
}

fn main() {
    // A panic is a bug; still report it as one `error:` line with the render-failure code.
    std::panic::set_hook(Box::new(|info| {
        say!("ERROR: internal error (please report): {info}");
    }));
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    let code = match std::panic::catch_unwind(|| run(&cli)) {
        Ok(Ok(())) => exit::OK,
        Ok(Err(e)) => {
            say!("ERROR: {e}");
            e.exit_code()
        }
        Err(_) => exit::RENDER,
    };
    std::process::exit(code);
}
