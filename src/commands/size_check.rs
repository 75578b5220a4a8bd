//! `warp size-check`: the CI gate. Raw and gzip size against budgets, the
//! change against a baseline, and the largest contributors.

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error::Exit;
use crate::size::{Budget, ByteSize, human_bytes};
use crate::size_report::{self, Entry};
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp size-check target/warp/hello.warp.json
  warp size-check hello.wasm --max-raw 250KB --max-gzip 100KB
  warp size-check --json target/warp/*.warp.json > sizes.json     (a baseline for later)
  warp size-check target/warp/hello.warp.json --baseline sizes.json

Budgets come from, in order: --max-raw/--max-gzip, the run manifest (or the
manifest beside a .wasm), the language default (rust: 300 KB raw, 120 KB gzip).
Sizes: KB/MB are powers of 1000, KiB/MiB powers of 1024.

Exit status:
  0  every artifact within budget
  1  an artifact over budget, not a valid component (a core module is
     refused), or a manifest naming a file outside its own directory
  2  usage or environment error (missing file, bad manifest)";

/// Check artifacts against size budgets (the CI gate).
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    /// Components or run manifests (a manifest's component must be inside its directory).
    #[arg(required = true, value_name = "ARTIFACT|MANIFEST")]
    pub artifacts: Vec<PathBuf>,
    /// A previous run manifest, `size-check --json` report or `.wasm` to compare with.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Raw size budget, e.g. `300KB`.
    #[arg(long, value_name = "SIZE")]
    pub max_raw: Option<ByteSize>,
    /// Gzip size budget, e.g. `120KB`.
    #[arg(long, value_name = "SIZE")]
    pub max_gzip: Option<ByteSize>,
    /// How many contributors to list per artifact.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let overrides = Budget { raw_bytes: opts.max_raw.map(|b| b.0), gzip_bytes: opts.max_gzip.map(|b| b.0) };
    let mut entries = opts
        .artifacts
        .iter()
        .map(|path| size_report::measure(path, overrides, opts.top))
        .collect::<Result<Vec<Entry>>>()?;
    if let Some(baseline) = &opts.baseline {
        let baseline = size_report::read_baseline(baseline)?;
        size_report::compare(&mut entries, &baseline);
    }
    let ok = entries.iter().all(|e| e.breaches.is_empty());
    printer.json(&serde_json::json!({ "ok": ok, "artifacts": entries }));
    printer.out(render(&entries, opts.top, printer));
    Ok(if ok { Exit::Ok } else { Exit::CheckFailed })
}

/// The table a CI log reader sees, then contributors and breaches.
pub fn render(entries: &[Entry], top: usize, printer: &Printer) -> String {
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
