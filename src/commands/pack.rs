//! `warp pack`: build a project into a validated, optimized component and
//! its run manifest, and check its size budget.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use super::ProjectArgs;
use crate::error::Exit;
use crate::pack;
use crate::size::human_bytes;
use crate::size_report::Entry;
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp pack                         the project in the current directory
  warp pack templates/rust-http     a project elsewhere
  warp pack -p api -o dist/api.wasm one package of a workspace, to a chosen path

The component goes to `<target-dir>/warp/<name>.wasm` and its run manifest
beside it as `<name>.warp.json`. Both are written atomically.

Exit status:
  0  packed, within budget
  1  the project failed: compile error, wrong world, over budget
  2  usage or environment error (e.g. the wasm target is not installed)";

/// Build a project into a validated, optimized component and run manifest.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Where to write the component (the manifest goes beside it).
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let started = Instant::now();
    let (path, options) = opts.project.pack_options(printer, opts.out, false);
    printer.status("Packing", path.display());
    let packed = {
        let progress = printer.progress();
        pack::pack(&path, &options, &progress)?
    };
    let manifest = &packed.manifest;
    let sizes = manifest.component.sizes;
    printer.json(&serde_json::json!({
        "component": packed.component_path,
        "manifest": packed.manifest_path,
        "name": manifest.name,
        "world": manifest.component.world,
        "raw_bytes": sizes.raw_bytes,
        "gzip_bytes": sizes.gzip_bytes,
        "sha256": manifest.component.sha256,
        "budget": manifest.budget,
        "breaches": packed.breaches,
        "reused": packed.reused,
        "sources": packed.sources,
    }));
    printer.status(
        "Packed",
        format_args!(
            "{} ({}, world {}) in {:.2}s{}",
            manifest.name,
            manifest.component.language,
            manifest.component.world,
            started.elapsed().as_secs_f64(),
            if packed.reused { ", optimized module reused" } else { "" }
        ),
    );
    printer.out(format_args!(
        "{}  {} (gzip {})\n{}\n",
        packed.component_path.display(),
        human_bytes(sizes.raw_bytes),
        human_bytes(sizes.gzip_bytes),
        packed.manifest_path.display()
    ));
    if packed.breaches.is_empty() {
        return Ok(Exit::Ok);
    }
    let entry = Entry {
        name: manifest.name.clone(),
        path: packed.component_path.clone(),
        sizes,
        budget: manifest.budget,
        breaches: packed.breaches.clone(),
        delta: None,
        contributors: manifest.contributors.clone(),
        grew: Vec::new(),
    };
    if !printer.json {
        eprint!("{}", crate::ui::size_table(&[entry], 10, printer));
    }
    Ok(Exit::CheckFailed)
}
