//! `warp size-check`: the CI gate. Raw and gzip size against budgets, the
//! change against a baseline, and the largest contributors.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error::Exit;
use crate::size::{Budget, ByteSize};
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
    printer.out(crate::ui::size_table(&entries, opts.top, printer));
    Ok(if ok { Exit::Ok } else { Exit::CheckFailed })
}
