//! `warp cache`: what warp keeps in its cache directory, and clearing it.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::cache;
use crate::error::Exit;
use crate::size::human_bytes;
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp cache                      each area of the cache, its size and directory
  warp cache clear                everything that can be made again without loss
  warp cache clear compiled       only compiled components
  warp cache clear --all          also toolchain work trees (unexported patches are lost)

The cache is `$WARP_CACHE_DIR`, else `$XDG_CACHE_HOME/warp`, else `~/.cache/warp`.
Compiled components are bounded (WARP_CACHE_MAX_COMPILED, in bytes) and the
oldest are evicted first; each project's pack reuse cache (`target/warp/.cache`)
is bounded too.";

/// Show or clear warp's cache.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Each area of the cache, its size and its directory (the default).
    Show,
    /// Remove areas of the cache (by default those that hold no work of yours).
    Clear {
        /// Areas to clear: compiled, embedded, toolchain-builds, toolchains.
        areas: Vec<String>,
        /// Clear every area, toolchain work trees included.
        #[arg(long, conflicts_with = "areas")]
        all: bool,
    },
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    match opts.action.unwrap_or(Action::Show) {
        Action::Show => {
            let areas = cache::areas()?;
            let total: u64 = areas.iter().map(|a| a.bytes).sum();
            printer.json(&serde_json::json!({ "root": crate::fs::cache_root()?, "bytes": total, "areas": areas }));
            let width = areas.iter().map(|a| a.name.len()).max().unwrap_or(0);
            for area in &areas {
                printer.out(format_args!(
                    "{:<width$}  {:>10}  {}\n{:<width$}  {:>10}  {}\n",
                    area.name,
                    human_bytes(area.bytes),
                    area.dir.display(),
                    "",
                    "",
                    area.what
                ));
            }
            printer.out(format_args!(
                "{:<width$}  {:>10}  {}\n",
                "total",
                human_bytes(total),
                crate::fs::cache_root()?.display()
            ));
        }
        Action::Clear { areas, all } => {
            let cleared = cache::clear(&areas, all)?;
            let freed: u64 = cleared.iter().map(|a| a.bytes).sum();
            let names: Vec<&str> = cleared.iter().map(|a| a.name).collect();
            printer.json(&serde_json::json!({ "cleared": names, "bytes": freed }));
            printer.status("Cleared", format_args!("{} ({} freed)", names.join(", "), human_bytes(freed)));
        }
    }
    Ok(Exit::Ok)
}
