//! `warp new`: a project from a template that packs with no edits.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error::Exit;
use crate::project::Lang;
use crate::templates::{self, Kind};
use crate::ui::Printer;

/// Create a project from a template.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  warp new --lang rust hello\n  warp new --lang rust --template cli tool")]
pub struct Opts {
    /// The project's name (also its directory, unless --path is given).
    pub name: String,
    /// The language.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Lang,
    /// What kind of component.
    #[arg(long, value_enum, default_value = "http")]
    pub template: Kind,
    /// Where to create it (default: ./NAME).
    #[arg(long)]
    pub path: Option<PathBuf>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let template = templates::find(opts.lang, opts.template)?;
    let dest = opts.path.unwrap_or_else(|| PathBuf::from(&opts.name));
    let files = templates::instantiate(template, &opts.name, &dest)?;
    printer.json(&serde_json::json!({ "path": dest, "template": template.dir, "files": files }));
    printer.status("Created", format_args!("`{}` from template `{}`", dest.display(), template.dir));
    printer.out(format_args!("next: warp pack {}\n", dest.display()));
    Ok(Exit::Ok)
}
