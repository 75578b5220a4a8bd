//! The terminal: verbosity, colour, JSON output, progress bars and errors.
//!
//! Only the command layer uses this module; domain code reports through
//! [`crate::report::Reporter`], and a runner through
//! [`crate::runner::EventSink`].

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{self, Exit};
use crate::project::ThreadingModel;
use crate::report::Reporter;
use crate::runner::events::Stream;
use crate::runner::{Event, EventSink};

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
        Progress { bar, verbose: self.verbosity == Verbosity::Verbose && !self.json, printer: *self }
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
    /// For the lines shown with or without a bar.
    printer: Printer,
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

    fn blocked(&self, on: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| self.printer.status("Blocking", format_args!("waiting for {on}"))),
            None => self.printer.status("Blocking", format_args!("waiting for {on}")),
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

/// `warp run`'s events as a person reads them: status lines (`Serving`,
/// `Reloaded`, `Stopped`) and warnings through the [`Printer`], the address
/// on stdout, and what goes wrong while serving as `warp run: …` lines on
/// stderr (shown even with `-q`).
pub struct HumanEvents {
    printer: Printer,
    /// What the problem lines start with: `warp run` or `warp dev`.
    tool: &'static str,
}

impl HumanEvents {
    pub fn new(printer: Printer) -> Self {
        HumanEvents { printer, tool: "warp run" }
    }

    /// For `warp dev`: its name on problem lines.
    pub fn dev(printer: Printer) -> Self {
        HumanEvents { printer, tool: "warp dev" }
    }

    fn line(&self, text: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr(), "{}: {text}", self.tool);
    }
}

impl EventSink for HumanEvents {
    fn emit(&self, event: &Event) {
        let printer = &self.printer;
        match event {
            Event::Listening { address, name, from_cache, pooling, connections, ready } => {
                let origin = if *from_cache { "compiled code from cache" } else { "compiled" };
                let pool = if *pooling { ", pooling allocator" } else { "" };
                let ready = ready.as_millis();
                printer.status(
                    "Serving",
                    format_args!("{name} ({origin}{pool}, up to {connections} connections, ready in {ready} ms)"),
                );
                printer.out(format_args!("listening on http://{address}\n"));
            }
            Event::AcceptFailed { error, suppressed: 0 } => self.line(format_args!(
                "accept failed: {error}; retrying with a pause of up to 1 s (while it lasts, logged once a minute)"
            )),
            Event::AcceptFailed { error, suppressed } => {
                self.line(format_args!("accept failed: {error} (and {suppressed} more times since the last report)"))
            }
            Event::Request { method, uri, status, ok, elapsed } => {
                let status = match (*status, *ok) {
                    (0, _) => "no response".to_string(),
                    (status, true) => status.to_string(),
                    (status, false) => format!("{status}, cut off"),
                };
                let ms = elapsed.as_secs_f64() * 1000.0;
                printer.status(method, format_args!("{uri} {status} in {ms:.1} ms"));
            }
            Event::GuestOutput { name, stream: Stream::Stdout, line } => printer.out(format_args!("[{name}] {line}\n")),
            Event::GuestOutput { name, stream: Stream::Stderr, line } => {
                let _ = writeln!(std::io::stderr(), "[{name}] {line}");
            }
            Event::OutputDropped { stream, bytes } => self.line(format_args!(
                "dropped {bytes} bytes of guest {} output: warp's {} was not read fast enough",
                stream.name(),
                stream.name()
            )),
            Event::EventsDropped { count } => {
                self.line(format_args!("dropped {count} log events: this output was not read fast enough"))
            }
            Event::RequestFailed { method, uri, status: Some(_), reason } => {
                self.line(format_args!("{method} {uri} failed: {reason}"))
            }
            Event::RequestFailed { method, uri, status: None, reason } => {
                self.line(format_args!("{method} {uri} failed after the response began: {reason}"))
            }
            Event::RequestAborted { method, uri, began } => {
                let when = if *began { "before the response was complete" } else { "before the response began" };
                self.line(format_args!("{method} {uri} aborted: the connection closed {when}"))
            }
            Event::RequestCutShort { method, uri, began, drain } => {
                let when = if *began { "its response cut off" } else { "no response sent" };
                self.line(format_args!(
                    "{method} {uri} failed: cut short by the stop ({when}): still in flight after the {} ms drain \
                     (limits.drain_timeout)",
                    drain.as_millis()
                ))
            }
            Event::Threading { name, model: ThreadingModel::ParallelRequired } => self.line(format_args!(
                "warning: {name} requires parallel threads, which WebAssembly components here do not have; it runs \
                 single-threaded and the deployment is flagged degraded"
            )),
            Event::Threading { name, .. } => {
                self.line(format_args!("{name} runs cooperatively: requests now run one at a time"))
            }
            Event::SignalDropped { dropped, capacity } => self
                .line(format_args!("the signal queue is full ({capacity}); dropped the oldest ({})", dropped.name())),
            Event::DatabaseRefused { name, host, port } => self.line(format_args!(
                "{name}: database connection to {host}:{port} refused: not listed in `shims.database`"
            )),
            Event::DatabaseTlsFailed { name, reason } => {
                self.line(format_args!("{name}: database connection to {reason}"))
            }
            Event::Reloaded(reloaded) => {
                let what = match (reloaded.swapped, reloaded.from_cache) {
                    (false, _) => "same component, new settings",
                    (true, true) => "new component, compiled code from cache",
                    (true, false) => "new component, compiled",
                };
                let engine = if reloaded.engine_reused { "" } else { ", new engine for the new limits" };
                printer.status("Reloaded", format_args!("{} ({what}{engine})", reloaded.name));
            }
            Event::ReloadFailed { error } => {
                printer.warn(format_args!("reload failed; still serving the previous version: {error}"))
            }
            Event::Stopping { signal } => {
                printer.status("Stopping", format_args!("{}: draining in-flight requests", signal.name()))
            }
            Event::Stopped(stopped) => {
                let cut = match stopped.cut_short {
                    0 => String::new(),
                    n => format!(" ({n} cut short by the stop)"),
                };
                let status = if stopped.degraded { " (deployment degraded: see the warning above)" } else { "" };
                printer.status(
                    "Stopped",
                    format_args!(
                        "{} requests served, {} failed{cut}, {} aborted by their clients{status}",
                        stopped.served, stopped.failed, stopped.aborted
                    ),
                );
            }
        }
    }
}

/// The table a CI log reader sees, then contributors and breaches.
pub fn size_table(entries: &[crate::size_report::Entry], top: usize, printer: &Printer) -> String {
    use std::fmt::Write;

    use crate::size::human_bytes;

    let mut out = String::new();
    let with_delta = entries.iter().any(|e| e.delta.is_some());
    let mut rows = vec![{
        let mut header = vec!["artifact", "raw", "raw budget", "gzip", "gzip budget"];
        if with_delta {
            header.extend(["raw change", "gzip change"]);
        }
        header.push("status");
        header.into_iter().map(String::from).collect::<Vec<_>>()
    }];
    for entry in entries {
        let limit = |l: Option<u64>| l.map_or("-".to_string(), human_bytes);
        let mut row = vec![
            entry.name.clone(),
            human_bytes(entry.sizes.raw_bytes),
            limit(entry.budget.raw_bytes),
            human_bytes(entry.sizes.gzip_bytes),
            limit(entry.budget.gzip_bytes),
        ];
        if with_delta {
            match &entry.delta {
                Some(d) => row.extend([d.raw.to_string(), d.gzip.to_string()]),
                None => row.extend(["(new)".to_string(), "(new)".to_string()]),
            }
        }
        row.push(if entry.breaches.is_empty() { "ok".into() } else { "OVER BUDGET".into() });
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(
                |(c, cell)| {
                    if c == 0 { format!("{cell:<w$}", w = widths[c]) } else { format!("{cell:>w$}", w = widths[c]) }
                },
            )
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    for entry in entries {
        if !entry.grew.is_empty() {
            let _ = writeln!(out, "\nwhat grew in `{}`:", entry.name);
            for g in &entry.grew {
                let _ = writeln!(out, "  +{:>10}  {} ({})", human_bytes(g.after - g.before), g.name, g.module);
            }
        }
        let shown: Vec<_> = entry.contributors.iter().take(top).collect();
        if !shown.is_empty() {
            let _ = writeln!(out, "\ntop {} contributors to `{}`:", shown.len(), entry.name);
            for c in shown {
                let share = c.bytes as f64 * 100.0 / entry.sizes.raw_bytes.max(1) as f64;
                let _ = writeln!(out, "  {:>10}  {:>5.1}%  {}  ({})", human_bytes(c.bytes), share, c.name, c.module);
            }
        }
        for breach in &entry.breaches {
            let label = printer.paint("error", "1;31");
            let _ = writeln!(out, "\n{label}: `{}`: {breach}", entry.name);
        }
    }
    out
}
