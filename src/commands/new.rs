//! `warp new`: a project from a template that packs with no edits.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error::Exit;
use crate::lang::Kind;
use crate::project::Lang;
use crate::templates;
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp new hello                          a Rust wasi:http service in ./hello
  warp new services/api                   in services/api, named `api`
  warp new --lang rust --template cli tool
  warp new --lang c tool                  a C wasi:cli program

Exit status:
  0  created
  2  the path exists and is not empty, the name is invalid, or there is no such template";

/// Create a project from a template.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    /// Where to create the project; its last component is the project's name.
    pub path: PathBuf,
    /// The project's name, when it should differ from the directory's.
    #[arg(long)]
    pub name: Option<String>,
    /// The language.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Lang,
    /// What kind of component (default: the language's first template).
    #[arg(long, value_enum)]
    pub template: Option<Kind>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let template = match opts.template {
        Some(kind) => templates::find(opts.lang, kind)?,
        None => templates::first(opts.lang)?,
    };
    let name = match opts.name {
        Some(name) => name,
        None => templates::name_from_path(&opts.path)?,
    };
    let files = templates::instantiate(template, &name, &opts.path)?;
    printer.json(&serde_json::json!({ "path": opts.path, "name": name, "template": template.dir, "files": files }));
    printer.status("Created", format_args!("`{}` ({name}) from template `{}`", opts.path.display(), template.dir));
    printer.out(format_args!("next: warp pack {}\n", opts.path.display()));
    Ok(Exit::Ok)
}
