//! Progress reporting for frame ranges, on stdout.
//!
//! stdout is the machine channel of `vksplat render`; human messages, warnings and errors go
//! to stderr. One report per finished frame (rendered and written, or skipped because a
//! complete file exists), flushed at once so a scheduler sees it while the job runs:
//!
//! * `--log-format text` on a pipe or file (the farm case):
//!   `PROGRESS frame=12 done=3/10 pct=30.0 status=written` then `ALF_PROGRESS 30%`
//!   (Tractor/RenderMan), one pair per frame; the key=value order is fixed and new keys are
//!   only ever appended;
//! * `--log-format text` on a terminal: one redrawn bar with the frame, count, rate and ETA;
//! * `--log-format json`: one JSON object per line: `{"event":"start",…}`, `{"event":"frame",
//!   "frame":12,"done":3,"total":10,"pct":30.0,"status":"written","path":…,"render_ms":…,
//!   "write_ms":…}`, `{"event":"end",…}` or `{"event":"error","exit_code":…,"message":…}`;
//! * `--log-format openjd`: `openjd_progress: 30.0` and `openjd_status: …` lines, which the
//!   Open Job Description runtime (Deadline Cloud, `openjd run`) turns into task progress, and
//!   on failure one `openjd_fail: <reason> (exit code N)` line, its reason for the failure.
//!
//! Every failure, also one before the render started (a usage error), is reported in the
//! chosen format ([`report_failure`]); no line on stdout carries a control character from a
//! file name (JSON escapes them, the other formats escape them as `\n` …).
//!
//! A closed stdout never stops a render: write errors here are ignored.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use serde_json::json;

use crate::stderr::escape_controls;

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// PROGRESS/ALF_PROGRESS lines on a pipe, a progress bar on a terminal.
    Text,
    /// One JSON object per line.
    Json,
    /// Open Job Description `openjd_progress:` / `openjd_status:` lines.
    Openjd,
}

/// How a frame ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameStatus {
    /// Rendered and written.
    Written,
    /// A complete file was already there (`--skip-existing`).
    Skipped,
}

impl FrameStatus {
    fn name(self) -> &'static str {
        match self {
            FrameStatus::Written => "written",
            FrameStatus::Skipped => "skipped",
        }
    }
}

/// Timing of a written frame, and the scene time it shows (plugin scenes).
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameTimes {
    pub render: Duration,
    pub write: Duration,
    pub scene_time: Option<f64>,
}

/// Frames of a run when it failed (all 0 when it failed before the frame list was known).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub written: usize,
    pub skipped: usize,
    pub total: usize,
}

/// Writes `text` to stdout in one write and flushes; errors are ignored (see the module doc).
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The machine-readable failure report on stdout: a JSON `error` event, or an OpenJD
/// `openjd_fail:` line (the line the Open Job Description runtime takes as the reason an
/// action failed); nothing for text, whose `ERROR:` line is on stderr. Used by
/// [`Progress::finish`] and by `main` for failures before a render started (usage errors,
/// panics). Control characters in `message` are escaped so a crafted file name cannot forge
/// another `openjd_*` line.
pub fn report_failure(format: LogFormat, code: i32, message: &str, counts: Counts) {
    match format {
        LogFormat::Text => {}
        LogFormat::Json => {
            let v = json!({"event": "error", "exit_code": code, "message": message,
                "written": counts.written, "skipped": counts.skipped, "total": counts.total});
            emit(&format!("{v}\n"));
        }
        LogFormat::Openjd => emit(&format!(
            "openjd_fail: {} (exit code {code})\n",
            escape_controls(message)
        )),
    }
}

impl LogFormat {
    /// The `--log-format` of a command line that did not parse, so that even a usage error
    /// is reported in the format the caller asked for (`--log-format F` or
    /// `--log-format=F`, the last one wins, nothing after `--`); text when absent or invalid.
    pub fn from_raw_args(args: &[std::ffi::OsString]) -> LogFormat {
        let mut format = LogFormat::Text;
        let mut iter = args.iter().skip(1).map(|a| a.to_string_lossy());
        while let Some(arg) = iter.next() {
            let value = match arg.as_ref() {
                "--" => break,
                "--log-format" => iter.next().map(|v| v.into_owned()),
                a => a.strip_prefix("--log-format=").map(str::to_string),
            };
            if let Some(f) = value.and_then(|v| LogFormat::from_str(&v, true).ok()) {
                format = f;
            }
        }
        format
    }
}

pub struct Progress {
    format: LogFormat,
    bar: bool,
    total: usize,
    done: usize,
    written: usize,
    skipped: usize,
    start: Instant,
    /// When the first rendered frame was started (rate and ETA ignore skipped frames).
    render_start: Option<Instant>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

impl Progress {
    /// `total` frames will be reported. A bar is drawn instead of lines when the format is
    /// text, stdout is a terminal and `quiet` is off.
    pub fn new(format: LogFormat, total: usize, quiet: bool) -> Self {
        let bar = format == LogFormat::Text && std::io::stdout().is_terminal();
        Progress {
            format,
            bar: bar && !quiet,
            total,
            done: 0,
            written: 0,
            skipped: 0,
            start: Instant::now(),
            render_start: None,
        }
    }

    fn emit(&self, text: &str) {
        emit(text);
    }

    /// The number of frames the run reports (known once the frame list is).
    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Start of the run: `to_render` of the frames need rendering, the others exist.
    pub fn start(&mut self, to_render: usize) {
        if self.format == LogFormat::Json {
            let v = json!({"event": "start", "total": self.total, "to_render": to_render});
            self.emit(&format!("{v}\n"));
        } else if self.format == LogFormat::Openjd {
            self.emit(&format!(
                "openjd_status: {to_render} of {} frame(s) to render\n",
                self.total
            ));
        }
    }

    /// The render thread begins rendering (rate and ETA count from here).
    pub fn rendering(&mut self) {
        self.render_start.get_or_insert_with(Instant::now);
    }

    pub fn frame(&mut self, frame: i64, status: FrameStatus, path: &Path, times: FrameTimes) {
        self.done += 1;
        match status {
            FrameStatus::Written => self.written += 1,
            FrameStatus::Skipped => self.skipped += 1,
        }
        let pct = if self.total == 0 {
            100.0
        } else {
            100.0 * self.done as f64 / self.total as f64
        };
        let (done, total) = (self.done, self.total);
        match self.format {
            LogFormat::Text if self.bar => self.draw_bar(frame),
            LogFormat::Text => self.emit(&format!(
                "PROGRESS frame={frame} done={done}/{total} pct={pct:.1} status={}\n\
                 ALF_PROGRESS {}%\n",
                status.name(),
                pct.floor() as u32
            )),
            LogFormat::Json => {
                let mut v = json!({"event": "frame", "frame": frame, "done": done, "total": total,
                    "pct": (pct * 10.0).round() / 10.0, "status": status.name(),
                    "path": path.to_string_lossy(), "render_ms": ms(times.render),
                    "write_ms": ms(times.write)});
                if let Some(t) = times.scene_time {
                    v["time"] = json!(t);
                }
                self.emit(&format!("{v}\n"));
            }
            LogFormat::Openjd => self.emit(&format!(
                "openjd_progress: {pct:.1}\nopenjd_status: frame {frame} {} ({done}/{total})\n",
                status.name()
            )),
        }
    }

    /// Frames per minute of the rendered (not skipped) frames so far.
    pub fn rate(&self) -> Option<f64> {
        let t = self.render_start?.elapsed().as_secs_f64();
        (self.written > 0 && t > 0.0).then(|| self.written as f64 * 60.0 / t)
    }

    fn draw_bar(&self, frame: i64) {
        const WIDTH: usize = 30;
        let frac = if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        };
        let filled = (frac * WIDTH as f64).round() as usize;
        let remaining = self.total - self.done;
        let eta = match self.rate() {
            Some(r) if remaining > 0 => {
                let s = (remaining as f64 * 60.0 / r).round() as u64;
                format!(" ETA {}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
            }
            _ => String::new(),
        };
        let rate = self
            .rate()
            .map_or(String::new(), |r| format!(" {r:.1} frames/min"));
        self.emit(&format!(
            "\r[{}{}] {}/{} {:3.0}% frame {frame}{rate}{eta}\x1b[K{}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            self.done,
            self.total,
            frac * 100.0,
            // The finished bar keeps its line.
            if remaining == 0 { "\n" } else { "" }
        ));
    }

    /// End of the run. `error` is the exit code and message of a failed run.
    pub fn finish(&mut self, error: Option<(i32, &str)>) {
        if self.bar && self.done > 0 && self.done < self.total {
            self.emit("\n");
        }
        let seconds = self.start.elapsed().as_secs_f64();
        match (self.format, error) {
            (LogFormat::Json, None) => {
                let v = json!({"event": "end", "written": self.written, "skipped": self.skipped,
                    "total": self.total, "seconds": (seconds * 1000.0).round() / 1000.0,
                    "frames_per_minute": self.rate().map(|r| (r * 1000.0).round() / 1000.0)});
                self.emit(&format!("{v}\n"));
            }
            (format, Some((code, message))) => {
                let counts = Counts {
                    written: self.written,
                    skipped: self.skipped,
                    total: self.total,
                };
                report_failure(format, code, message, counts);
            }
            _ => {}
        }
    }

    pub fn written(&self) -> usize {
        self.written
    }

    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(args: &[&str]) -> LogFormat {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        LogFormat::from_raw_args(&args)
    }

    #[test]
    fn log_format_of_an_unparsed_command_line() {
        assert_eq!(
            format_of(&["vksplat", "render", "--bogus"]),
            LogFormat::Text
        );
        assert_eq!(
            format_of(&["vksplat", "render", "--log-format", "json", "--bogus"]),
            LogFormat::Json
        );
        assert_eq!(
            format_of(&["vksplat", "render", "--log-format=openjd", "--frames", "x"]),
            LogFormat::Openjd
        );
        // Invalid or missing values keep text; the last valid one wins; `--` ends options.
        assert_eq!(
            format_of(&["vksplat", "render", "--log-format", "xml"]),
            LogFormat::Text
        );
        assert_eq!(
            format_of(&["vksplat", "render", "--log-format"]),
            LogFormat::Text
        );
        assert_eq!(
            format_of(&[
                "vksplat",
                "render",
                "--log-format=json",
                "--log-format",
                "openjd"
            ]),
            LogFormat::Openjd
        );
        assert_eq!(
            format_of(&["vksplat", "render", "--", "--log-format", "json"]),
            LogFormat::Text
        );
    }
}
