//! `warp toolchain`: list and install the toolchains `warp` drives.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::doctor;
use crate::error::Exit;
use crate::toolchain;
use crate::ui::Printer;

/// List or install toolchains.
#[derive(Debug, Args)]
pub struct Opts {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Show the toolchains and whether they are ready.
    List,
    /// Install a toolchain (`rust`: the wasm32-wasip2 and wasm32-wasip1 targets).
    Install {
        /// Toolchain name.
        name: String,
    },
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
                toolchain::install(&name, &progress)?;
            }
            printer.json(&serde_json::json!({ "installed": name }));
            printer.status("Installed", format_args!("toolchain `{name}`"));
        }
    }
    Ok(Exit::Ok)
}
