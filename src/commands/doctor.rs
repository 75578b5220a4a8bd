//! `warp doctor`: what is installed, what is missing, and the fix for each.

use anyhow::Result;
use clap::Args;

use crate::doctor;
use crate::error::Exit;
use crate::project::Lang;
use crate::size::human_bytes;
use crate::ui::Printer;

/// Check the toolchains each language path needs.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status:\n  0  everything the languages asked for (--lang) is present; without --lang, always\n  2  something a requested language needs is missing"
)]
pub struct Opts {
    /// Show only what this language needs, and fail (exit 2) unless it is
    /// all present. Repeatable.
    #[arg(long, value_enum)]
    pub lang: Vec<Lang>,
}

pub fn run(opts: Opts, printer: &Printer) -> Result<Exit> {
    let mut checks = doctor::run_checks();
    // With `--lang`, only what those languages need is shown (and judged).
    if !opts.lang.is_empty() {
        checks.retain(|c| c.needed_for.iter().any(|l| opts.lang.contains(l)));
    }
    let failing: Vec<_> = checks.iter().filter(|c| !c.ok() && !opts.lang.is_empty()).collect();
    let areas = crate::cache::areas()?;
    let cache_bytes: u64 = areas.iter().map(|a| a.bytes).sum();
    let pooling = crate::runner::pooling_allocator();
    printer.json(&serde_json::json!({
        "ok": failing.is_empty(),
        "checks": checks,
        "cache": { "root": crate::fs::cache_root()?, "bytes": cache_bytes, "areas": areas },
        "runner": { "pooling": pooling.is_ok(), "pooling_error": pooling.as_ref().err() },
    }));
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for check in &checks {
        let langs: Vec<_> = check.needed_for.iter().map(|l| l.name()).collect();
        match &check.found {
            Some(version) => {
                text += &format!(
                    "{} {:<width$}  {version}  ({})\n",
                    printer.paint("ok     ", "32"),
                    check.name,
                    langs.join(", ")
                )
            }
            None => {
                text += &format!(
                    "{} {:<width$}  needed for {}\n         fix: {}\n",
                    printer.paint("missing", "33"),
                    check.name,
                    langs.join(", "),
                    check.fix.as_deref().unwrap_or("-")
                )
            }
        }
    }
    match &pooling {
        Ok(()) => text += "\nrunner pooling allocator available (instances reserved up front)\n",
        Err(reason) => {
            text += &format!(
                "\nrunner {} the pooling allocator cannot reserve its memory: {reason}\n       \
                 `warp run` allocates per instance instead (slower), and answers 503 when that fails; \
                 raise `ulimit -v`, or lower `limits.instances` / `limits.memory`\n",
                printer.paint("degraded", "33")
            )
        }
    }
    text += &format!(
        "\ncache  {} in `{}` (`warp cache` for each area, `warp cache clear` to free it)\n",
        human_bytes(cache_bytes),
        crate::fs::cache_root()?.display()
    );
    printer.out(text);
    Ok(if failing.is_empty() { Exit::Ok } else { Exit::Environment })
}
