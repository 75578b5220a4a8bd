//! `warp patches export`: regenerate a toolchain's series from its branch.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::error::Exit;
use crate::fork;
use crate::ui::Printer;

/// Work with a toolchain's patch series.
#[derive(Debug, Args)]
pub struct Opts {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Rewrite `patches/NAME/` from the commits on the `warp` branch of the
    /// cached work tree (after editing, adding or reordering commits there).
    Export { name: String },
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    match opts.action {
        Action::Export { name } => {
            let fork = fork::recipe::load_for_editing(&std::env::current_dir()?, &name)?;
            let name = fork.name.clone();
            let written = fork::export(&fork)?;
            printer.json(&serde_json::json!({ "name": name, "written": written }));
            for path in &written {
                printer.out(format_args!("{}\n", path.display()));
            }
            printer.status("Exported", format_args!("{} patches to `{}`", written.len(), fork.patches_dir.display()));
        }
    }
    Ok(Exit::Ok)
}
