//! `warp compat analyze PATH`: each dependency of a project, with what
//! compat-db (built into this binary) says of it under WebAssembly.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::compat::{self, Db};
use crate::error::{Diagnostic, Exit};
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp compat analyze .                 the dependencies in ./go.mod and ./package.json
  warp compat analyze services/api/go.mod
  warp compat analyze web/package.json
  warp compat analyze --json . > compat.json

Reads `go.mod` (require lines, direct and `// indirect`) and `package.json`
(`dependencies`; `devDependencies` are build and test tools, not bundled, and
are listed as not looked up). A Bun project's package.json (`bunfig.toml`,
`bun.lock`, `lang = \"bun\"` in warp.toml, …: what `warp pack` detects) is
looked up in the Bun records, any other in the npm ones. `Cargo.lock` is
recognized but not read yet. Verdicts come from compat-db, measured by `cargo
xtask compat go`, `npm` and `bun`: works, partial (runs, with a part that
errors, e.g. a database driver that cannot reach a server), fails (does not
pack, traps, or answers wrongly), unknown (not measured).

Exit status:
  0  no dependency is recorded as failing (unknown ones do not count)
  1  a dependency is recorded as `fails`
  2  usage or environment error: no go.mod, package.json or Cargo.lock, only
     unread ones, an unreadable go.mod or package.json";

/// What the project's dependencies do under WebAssembly, from compat-db.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Report works / partial / fails / unknown for each dependency.
    Analyze {
        /// A project directory, or its `go.mod` or `package.json`.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let Action::Analyze { path } = opts.action;
    let analysis = compat::analyze(&path, Db::embedded)?;
    for file in &analysis.not_read {
        printer.warn(format_args!("`{}` is not read yet: {}", file.display(), compat::READS));
    }
    printer.json(&serde_json::json!({
        "reports": analysis.reports,
        "not_read": analysis.not_read,
        "counts": analysis.counts(),
    }));
    for report in &analysis.reports {
        let count = report.dependencies.len();
        printer.out(format_args!(
            "{} ({count} {}, compat-db holds {} for {}):\n",
            report.file.display(),
            if count == 1 { "dependency" } else { "dependencies" },
            report.known_packages,
            report.ecosystem.name()
        ));
        let rows: Vec<[String; 5]> = report
            .dependencies
            .iter()
            .map(|finding| {
                let dependency = &finding.dependency;
                let name = if dependency.indirect {
                    format!("{} (indirect)", dependency.name)
                } else {
                    dependency.name.clone()
                };
                let (tested, reason) = match &finding.record {
                    Some(record) => (record.version.clone(), record.reason.clone()),
                    None => ("-".into(), "not in compat-db".into()),
                };
                [name, dependency.version.clone(), finding.verdict_name().into(), tested, reason]
            })
            .collect();
        let kind = if report.ecosystem == compat::Ecosystem::Go { "MODULE" } else { "PACKAGE" };
        let header = [kind, "REQUIRED", "VERDICT", "TESTED", "REASON"].map(String::from);
        let mut widths = [0; 4];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let verdict = match row[2].as_str() {
                "works" => printer.paint(&row[2], "32"),
                "partial" => printer.paint(&row[2], "33"),
                "fails" => printer.paint(&row[2], "31"),
                _ => row[2].clone(),
            };
            let pad = widths[2] - row[2].chars().count();
            printer.out(format_args!(
                "  {:<w0$}  {:<w1$}  {verdict}{:pad$}  {:<w3$}  {}\n",
                row[0],
                row[1],
                "",
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w3 = widths[3],
            ));
        }
        if let Some(skipped) = &report.skipped {
            printer.out(format_args!(
                "  not looked up: {} {} ({}): {}\n",
                skipped.names.len(),
                skipped.what,
                skipped.why,
                skipped.names.join(", ")
            ));
        }
    }
    let counts = analysis.counts();
    printer.out(format_args!(
        "{} works, {} partial, {} fails, {} unknown\n",
        counts["works"], counts["partial"], counts["fails"], counts["unknown"]
    ));
    let failing = analysis.failing();
    if failing.is_empty() {
        return Ok(Exit::Ok);
    }
    let names: Vec<String> = failing.iter().map(|f| format!("`{}`", f.dependency.name)).collect();
    let error = anyhow::Error::new(
        Diagnostic::check(format!(
            "{} {} recorded as failing under WebAssembly: {}",
            names.len(),
            if names.len() == 1 { "dependency is" } else { "dependencies are" },
            names.join(", ")
        ))
        .help("see each reason above; `docs/COMPAT.md` says how verdicts are measured"),
    );
    // The report above is the result; the error line says why the exit is 1.
    debug_assert_eq!(crate::error::exit_for(&error), Exit::CheckFailed);
    Ok(printer.error(&error))
}
