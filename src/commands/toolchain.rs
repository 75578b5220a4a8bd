//! `warp toolchain`: list and install the toolchains `warp` drives; prepare
//! and inspect the forked ones (`toolchains/NAME.toml`).

use anyhow::Result;
use clap::{Args, Subcommand};

use super::{UpstreamOpts, short};
use crate::doctor;
use crate::error::Exit;
use crate::fork;
use crate::lang;
use crate::ui::Printer;

/// List, install, prepare and inspect toolchains.
#[derive(Debug, Args)]
pub struct Opts {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Show the toolchains and whether they are ready.
    List,
    /// Install a language's toolchain (`rust`: the wasm32-wasip2 and
    /// wasm32-wasip1 targets; `c`: warp's wasi-libc, built with Debian's clang 19).
    Install {
        /// Toolchain name.
        name: String,
    },
    /// Materialize a forked toolchain: its upstream at the pinned base in
    /// warp's cache, then each patch of `patches/NAME/` as one commit.
    Prepare {
        /// A toolchain recipe (e.g. wasi-libc, or its alias libc).
        name: String,
        #[command(flatten)]
        upstream: UpstreamOpts,
        /// Rebuild even if the cached work tree has changes not in `patches/`.
        #[arg(long)]
        force: bool,
    },
    /// Prepare a forked toolchain and run its recipe's build steps into
    /// warp's cache (nothing runs when sources and steps are unchanged).
    Build {
        /// A toolchain recipe with a `[build]` section (e.g. wasi-libc, or libc).
        name: String,
        #[command(flatten)]
        upstream: UpstreamOpts,
        /// Rebuild the work tree even if it has changes not in `patches/`.
        #[arg(long)]
        force: bool,
    },
    /// Show a forked toolchain's base, applied patches and work-tree state.
    Status { name: String },
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    match opts.action {
        Action::List => {
            let checks = doctor::run_checks();
            printer.json(&serde_json::json!({ "toolchains": checks }));
            for check in checks {
                let state = check.found.clone().unwrap_or_else(|| "missing".into());
                printer.out(format_args!("{:<22} {state}\n", check.name));
            }
        }
        Action::Install { name } => {
            {
                let progress = printer.progress();
                lang::by_toolchain(&name)?.install(&progress)?;
            }
            printer.json(&serde_json::json!({ "installed": name }));
            printer.status("Installed", format_args!("toolchain `{name}`"));
        }
        Action::Prepare { name, upstream, force } => {
            let fork = fork::recipe::load(&std::env::current_dir()?, &name)?;
            let name = fork.name.clone();
            let prepared = fork::prepare(&fork, upstream.upstream.as_deref(), force)?;
            printer.json(&serde_json::json!({
                "name": name, "dir": prepared.dir, "base": prepared.base.to_string(),
                "head": prepared.head.to_string(), "patches": prepared.patches, "reused": prepared.reused,
            }));
            let how = if prepared.reused { "up to date" } else { "materialized" };
            printer.status(
                "Prepared",
                format_args!("{name}: {} patches on {} ({how})", prepared.patches, short(&prepared.base.to_string())),
            );
            printer.out(format_args!("{}\n", prepared.dir.display()));
        }
        Action::Build { name, upstream, force } => {
            let fork = fork::recipe::load(&std::env::current_dir()?, &name)?;
            let name = fork.name.clone();
            let built = fork::build::build(&fork, upstream.upstream.as_deref(), force)?;
            printer.json(&serde_json::json!({
                "name": name, "out": built.out, "head": built.head.to_string(), "patches": built.patches,
                "fresh": built.fresh, "seconds": built.elapsed.as_secs_f64(),
            }));
            let head = built.head.to_string();
            if built.fresh {
                printer.status("Fresh", format_args!("{name} at {} (nothing changed)", short(&head)));
            } else {
                printer.status(
                    "Built",
                    format_args!(
                        "{name} at {} ({} patches) in {:.1}s",
                        short(&head),
                        built.patches,
                        built.elapsed.as_secs_f64()
                    ),
                );
            }
            printer.out(format_args!("{}\n", built.out.display()));
        }
        Action::Status { name } => {
            let fork = fork::recipe::load(&std::env::current_dir()?, &name)?;
            let name = fork.name.clone();
            let status = fork::status(&fork)?;
            printer.json(&serde_json::to_value(&status)?);
            if !status.materialized {
                printer.out(format_args!(
                    "{name}: not prepared ({} patches in the series); run `warp toolchain prepare {name}`\n",
                    status.patches_in_series
                ));
                return Ok(Exit::Ok);
            }
            let base = status.base.as_deref().map(short).unwrap_or("?");
            printer.out(format_args!("toolchain  {name}\n"));
            printer.out(format_args!("work tree  {}\n", status.dir.display()));
            printer.out(format_args!("base       {base}\n"));
            printer.out(format_args!(
                "patches    {} applied, {} in the series\n",
                status.patches_applied, status.patches_in_series
            ));
            let state = match (status.rebase_in_progress, status.dirty) {
                (true, _) => "rebase in progress (`warp rebase NAME --continue` or `--abort`)",
                (false, true) => "dirty (uncommitted changes)",
                (false, false) => "clean",
            };
            printer.out(format_args!("state      {state}\n"));
        }
    }
    Ok(Exit::Ok)
}
