//! `vksplat`: the command-line face of the engine. This file parses arguments and dispatches;
//! each command lives in its own module, errors are classified into exit codes in [`error`] and
//! the codes themselves are in [`exit`].

#![forbid(unsafe_code)]

mod bench;
mod camera_path;
// `utc_date` serves build.rs; render's EXR capDate uses `civil_from_days`.
#[allow(dead_code)]
mod civil_date;
mod convert;
mod devices;
mod error;
pub mod exit;
mod frames;
mod info;
mod occluder;
mod output_pattern;
mod outputs;
mod plugins;
mod progress;
mod render;
mod signals;
mod stderr;
mod time;
pub mod version;

use crate::stderr::say;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::progress::{report_failure, Counts, LogFormat};

#[derive(Parser, Debug)]
#[command(
    name = "vksplat",
    version = version::LONG,
    about = "Headless Vulkan compute renderer for 3D Gaussian Splatting",
    after_help = exit::HELP
)]
struct Cli {
    /// More messages on stderr: -v adds information (the device used, buffer growth, plugins'
    /// info lines), -vv debugging detail, -vvv everything.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only warnings and errors on stderr (wins over -v); `render`'s progress on stdout stays,
    /// without the bar.
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
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

/// The `--log-format` a parsed command asked for (text for commands without one).
fn log_format(cli: &Cli) -> LogFormat {
    match &cli.command {
        Command::Render(args) => args.log_format,
        _ => LogFormat::Text,
    }
}

/// clap's multi-paragraph error as one line: `unexpected argument '--x' found; tip: …;
/// Usage: vksplat render [OPTIONS] [SCENE]; For more information, try '--help'.`
fn one_line(e: &clap::Error) -> String {
    // Display of the rendered text is plain (no colour codes).
    let text = e.render().to_string();
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // clap would print the whole help; keep its usage line.
        let usage = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Usage: "))
            .unwrap_or("vksplat <COMMAND>");
        return format!("a command is required; Usage: {usage}; try '--help'");
    }
    text.split("\n\n")
        .map(|para| {
            let para = para.trim();
            let para = para.strip_prefix("error: ").unwrap_or(para);
            para.lines().map(str::trim).collect::<Vec<_>>().join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses the command line. `--help` and `--version` print to stdout and exit 0; any other
/// parser error is one `ERROR: ` line on stderr (plus the JSON/OpenJD failure report on stdout
/// when the command line asked for one) and exit 2.
fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            // A closed stdout is the reader's choice; nothing to report.
            let _ = e.print();
            std::process::exit(exit::OK);
        }
        Err(e) => {
            let message = one_line(&e);
            say!("ERROR: {message}");
            report_failure(
                LogFormat::from_raw_args(&args),
                exit::USAGE,
                &message,
                Counts::default(),
            );
            std::process::exit(exit::USAGE);
        }
    }
}

/// The CLI's `log` sink: each record at or above the level `-v`/`-q` chose is one line on
/// stderr through [`stderr::line`] (one write, control characters escaped, errors ignored):
/// `warning: …`, `info: …`; a plugin's lines (target `plugin:NAME`) name the plugin.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => "error",
            log::Level::Warn => "warning",
            log::Level::Info => "info",
            log::Level::Debug => "debug",
            log::Level::Trace => "trace",
        };
        let plugin = record
            .target()
            .strip_prefix(vksplat_plugin_host::loader::LOG_TARGET_PREFIX);
        stderr::line(&match plugin {
            Some(name) => format!("{level}: plugin '{name}': {}", record.args()),
            None => format!("{level}: {}", record.args()),
        });
    }

    fn flush(&self) {}
}

/// The most detailed level `-v`/`-q` let through: warnings by default and with `-q`.
fn log_level(cli: &Cli) -> log::LevelFilter {
    match (cli.quiet, cli.verbose) {
        (true, _) | (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, 2) => log::LevelFilter::Debug,
        (false, _) => log::LevelFilter::Trace,
    }
}

fn main() {
    // A panic is a bug; still report it as one `ERROR:` line with the render-failure code.
    std::panic::set_hook(Box::new(|info| {
        say!("ERROR: internal error (please report): {info}");
    }));
    let cli = parse();
    static LOGGER: Logger = Logger;
    // Only fails when a logger is already set, which nothing else in this binary does.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log_level(&cli));
    let code = match std::panic::catch_unwind(|| run(&cli)) {
        Ok(Ok(())) => exit::OK,
        // `render` reported its own failure on stdout (with its frame counts).
        Ok(Err(e)) => {
            say!("ERROR: {e}");
            if !matches!(cli.command, Command::Render(_)) {
                report_failure(
                    log_format(&cli),
                    e.exit_code(),
                    e.message(),
                    Counts::default(),
                );
            }
            e.exit_code()
        }
        Err(_) => {
            report_failure(
                log_format(&cli),
                exit::RENDER,
                "internal error (please report; see stderr)",
                Counts::default(),
            );
            exit::RENDER
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(args: &[&str]) -> clap::Error {
        Cli::try_parse_from(args).expect_err("must not parse")
    }

    #[test]
    fn parser_errors_become_one_line() {
        let line = one_line(&parse_error(&["vksplat", "render", "--bogus"]));
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("unexpected argument '--bogus' found"),
            "{line}"
        );
        assert!(line.contains("Usage: vksplat render"), "{line}");

        let line = one_line(&parse_error(&["vksplat", "render", "--background", "1,2"]));
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.contains("--background") && line.contains("three"),
            "{line}"
        );

        let line = one_line(&parse_error(&["vksplat"]));
        assert_eq!(
            line,
            "a command is required; Usage: vksplat [OPTIONS] <COMMAND>; try '--help'"
        );
    }

    #[test]
    fn verbose_and_quiet_choose_the_log_level() {
        let level = |args: &[&str]| log_level(&Cli::try_parse_from(args).unwrap());
        use log::LevelFilter::*;
        assert_eq!(level(&["vksplat", "devices"]), Warn);
        assert_eq!(level(&["vksplat", "-v", "devices"]), Info);
        assert_eq!(level(&["vksplat", "devices", "-v"]), Info);
        assert_eq!(level(&["vksplat", "-vv", "devices"]), Debug);
        assert_eq!(level(&["vksplat", "devices", "-vvvv"]), Trace);
        assert_eq!(level(&["vksplat", "-q", "devices"]), Warn);
        assert_eq!(level(&["vksplat", "devices", "-q", "-vv"]), Warn);
        // render's own -q is the global one: both set it.
        for args in [
            &["vksplat", "render", "-q"][..],
            &["vksplat", "-q", "render"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            let Command::Render(r) = &cli.command else {
                panic!("{args:?}")
            };
            assert!(r.quiet && cli.quiet, "{args:?}");
        }
    }

    #[test]
    fn version_carries_hash_and_date() {
        let e = parse_error(&["vksplat", "--version"]);
        assert_eq!(e.kind(), ErrorKind::DisplayVersion);
        let text = e.render().to_string();
        assert_eq!(text.trim_end(), format!("vksplat {}", version::LONG));
        assert!(version::LONG.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(version::LONG.contains(" (git ") && version::LONG.contains(", built 20"));
    }
}
