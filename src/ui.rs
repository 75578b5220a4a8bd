//! The terminal: verbosity, colour, JSON output, progress bars and errors.
//!
//! Only the command layer uses this module; domain code reports through
//! [`crate::report::Reporter`].

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{self, Exit};
use crate::report::Reporter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Decides what gets printed, and how.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub verbosity: Verbosity,
    pub json: bool,
    pub color: bool,
}

impl Printer {
    pub fn new(verbosity: Verbosity, json: bool, color: ColorChoice) -> Self {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
            }
        };
        Printer { verbosity, json, color }
    }

    /// A status line on stderr, cargo style: `    Packing hello`.
    pub fn status(&self, verb: &str, message: impl std::fmt::Display) {
        if self.json || self.verbosity == Verbosity::Quiet {
            return;
        }
        let verb = self.paint(&format!("{verb:>12}"), "1;32");
        let _ = writeln!(std::io::stderr(), "{verb} {message}");
    }

    /// A warning on stderr (shown unless `-q`).
    pub fn warn(&self, message: impl std::fmt::Display) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let label = self.paint("warning", "1;33");
        let _ = writeln!(std::io::stderr(), "{label}: {message}");
    }

    /// Human output on stdout (suppressed by `--json`; `-q` keeps it, as it is the result).
    pub fn out(&self, text: impl std::fmt::Display) {
        if self.json {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{text}");
        let _ = stdout.flush();
    }

    /// The machine-readable result on stdout (only with `--json`).
    pub fn json(&self, value: &serde_json::Value) {
        if !self.json {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, value);
        let _ = writeln!(stdout);
        let _ = stdout.flush();
    }

    pub fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color { format!("\x1b[{sgr}m{text}\x1b[0m") } else { text.to_string() }
    }

    /// A progress reporter suited to this printer: a spinner on a terminal,
    /// nothing otherwise.
    pub fn progress(&self) -> Progress {
        let visible = !self.json && self.verbosity != Verbosity::Quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.green} {prefix:.bold} {wide_msg}")
                    .expect("static template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            Some(bar)
        } else {
            None
        };
        Progress { bar, verbose: self.verbosity == Verbosity::Verbose && !self.json }
    }

    /// Prints an error the way every `warp` command does, and returns the exit code.
    pub fn error(&self, error: &anyhow::Error) -> Exit {
        let mut stderr = std::io::stderr().lock();
        for cause in error.chain() {
            if let Some(output) = cause.downcast_ref::<error::ToolOutput>() {
                let _ = write!(stderr, "{}", output.text);
                if !output.text.ends_with('\n') {
                    let _ = writeln!(stderr);
                }
            }
        }
        let label = self.paint("error", "1;31");
        let _ = writeln!(stderr, "{label}: {error}");
        let causes: Vec<String> = error.chain().skip(1).map(|c| c.to_string()).collect();
        if !causes.is_empty() {
            let _ = writeln!(stderr, "\nCaused by:");
            for (i, cause) in causes.iter().enumerate() {
                for (j, line) in cause.lines().enumerate() {
                    if j == 0 {
                        let _ = writeln!(stderr, "  {i}: {line}");
                    } else {
                        let _ = writeln!(stderr, "     {line}");
                    }
                }
            }
        }
        let diagnostic = error::diagnostic(error);
        if let Some(help) = diagnostic.and_then(|d| d.help.as_deref()) {
            let label = self.paint("help", "1;36");
            let _ = writeln!(stderr, "\n{label}: {help}");
        }
        error::exit_for(error)
    }
}

/// A spinner with the current phase and the latest line of detail.
pub struct Progress {
    bar: Option<ProgressBar>,
    verbose: bool,
}

impl Reporter for Progress {
    fn phase(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(name.to_string());
            bar.set_message("");
        }
    }

    fn detail(&self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(line.trim().to_string());
        }
        if self.verbose {
            match &self.bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
