//! `warp rebase`: replay a toolchain's patch series onto a newer upstream.

use anyhow::Result;
use clap::Args;

use super::{UpstreamOpts, short};
use crate::error::Exit;
use crate::fork::{self, Outcome};
use crate::ui::Printer;

const AFTER_HELP: &str = "\
Examples:
  warp rebase libc                            onto the recipe's ref, fetched anew
  warp rebase wasi-libc --onto v0.3 --upstream ../mirrors/wasi-libc
  warp rebase wasi-libc --continue            after resolving a conflict
  warp rebase wasi-libc --abort

Each patch is reported as applied, already upstream (dropped), or conflicted
(with files and line ranges). On success `patches/NAME/` and
`patches/NAME/UPSTREAM_REF` are rewritten; on a conflict nothing of yours is
touched: the conflict waits in warp's cached work tree.

Exit status: 0 rebased; 1 stopped on a conflict; 2 usage or environment";

/// Replay a toolchain's patches onto a newer upstream.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct Opts {
    /// A toolchain recipe in this checkout's `toolchains/` (e.g. wasi-libc, or its alias libc).
    pub name: String,
    /// The upstream branch, tag or commit (npm: version) to rebase onto.
    #[arg(long, value_name = "REF", conflicts_with_all = ["r#continue", "abort"])]
    pub onto: Option<String>,
    #[command(flatten)]
    pub upstream: UpstreamOpts,
    /// Go on after resolving a conflict in the work tree.
    #[arg(long, conflicts_with = "abort")]
    pub r#continue: bool,
    /// Give up the rebase in progress; the series stays as it was.
    #[arg(long)]
    pub abort: bool,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let fork = fork::recipe::load_for_editing(&std::env::current_dir()?, &opts.name)?;
    let name = &fork.name;
    if opts.abort {
        let dir = fork::abort_rebase(&fork)?;
        printer.json(&serde_json::json!({ "name": name, "aborted": true }));
        printer.status("Aborted", format_args!("rebase of {}; `{}` is back on the series", name, dir.display()));
        return Ok(Exit::Ok);
    }
    let rebased = if opts.r#continue {
        fork::continue_rebase(&fork)?
    } else {
        fork::rebase(&fork, opts.onto.as_deref(), opts.upstream.upstream.as_deref())?
    };
    printer.json(&serde_json::to_value(&rebased)?);
    for step in &rebased.steps {
        match &step.outcome {
            Outcome::Applied => printer.out(format_args!("applied          {}\n", step.patch)),
            Outcome::AlreadyUpstream => {
                printer.out(format_args!("already upstream {} (dropped from the series)\n", step.patch))
            }
            Outcome::Conflicted { files } => {
                printer.out(format_args!("conflicted       {}\n", step.patch));
                for file in files {
                    printer.out(format_args!("    {} (lines {})\n", file.path, fork::ranges(&file.hunks)));
                }
            }
        }
    }
    if !rebased.finished {
        printer.warn(format_args!(
            "stopped on a conflict; `patches/{0}/` is unchanged.\n  resolve it in `{1}` (edit out the conflict markers), then run `warp rebase {0} --continue`;\n  or give up with `warp rebase {0} --abort`",
            name,
            rebased.dir.display()
        ));
        return Ok(Exit::CheckFailed);
    }
    printer.status(
        "Rebased",
        format_args!(
            "{} onto {}: {} patches written to `{}`",
            name,
            short(&rebased.new_base),
            rebased.written.len(),
            fork.patches_dir.display()
        ),
    );
    Ok(Exit::Ok)
}
