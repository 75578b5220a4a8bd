//! `warp toolchain build NAME`: runs a recipe's `[build]` steps in the
//! prepared work tree and records what the outputs were built from.
//!
//! Outputs go to `$cache/toolchain-builds/NAME/`, outside the work tree, so
//! building never makes the tree dirty. A stamp (`.warp-build`) names the
//! source commit and the steps; when both match, nothing runs. The stamp is
//! removed before a build starts and written after its last step, so a
//! failed or interrupted build is never mistaken for a finished one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::recipe::{Build, Fork, Requirement};
use crate::error::Diagnostic;
use crate::fs::{find_program, sha256_hex, write_atomic};

const STAMP: &str = ".warp-build";
const LOG: &str = "build.log";

/// Where `NAME`'s build outputs live (whether or not it has been built).
pub fn output_dir(name: &str) -> Result<PathBuf> {
    Ok(builds_dir()?.join(name))
}

/// Where every toolchain's build outputs live.
pub fn builds_dir() -> Result<PathBuf> {
    crate::fs::CacheArea::ToolchainBuilds.dir()
}

/// `NAME`'s output directory, if a build of it finished there.
pub fn finished_output(name: &str) -> Result<Option<PathBuf>> {
    let dir = output_dir(name)?;
    Ok(dir.join(STAMP).is_file().then_some(dir))
}

#[derive(Debug)]
pub struct Built {
    pub out: PathBuf,
    pub head: git2::Oid,
    pub patches: usize,
    /// The outputs already matched the sources: no step ran.
    pub fresh: bool,
    pub elapsed: Duration,
}

/// Prepares `fork` (see [`super::prepare`]) and builds it.
pub fn build(fork: &Fork, upstream: Option<&str>, force: bool) -> Result<Built> {
    let started = Instant::now();
    let Some(recipe) = &fork.recipe.build else {
        return Err(Diagnostic::check(format!("`{}` has no `[build]` section", fork.recipe_path.display()))
            .help("add `[build]` with `steps` (see docs/FORK-MAINTENANCE.md)")
            .into());
    };
    check_requirements(&fork.name, &recipe.requires)?;
    let prepared = super::prepare(fork, upstream, force)?;
    let out = output_dir(&fork.name)?;
    let steps = render(recipe, &out);
    let key = stamp_key(prepared.head, &steps);
    let stamp = out.join(STAMP);
    let outputs_present = recipe.outputs.iter().all(|output| out.join(output).exists());
    if std::fs::read_to_string(&stamp).is_ok_and(|text| text.trim() == key) && outputs_present {
        return Ok(Built {
            out,
            head: prepared.head,
            patches: prepared.patches,
            fresh: true,
            elapsed: started.elapsed(),
        });
    }

    std::fs::create_dir_all(&out).with_context(|| format!("failed to create `{}`", out.display()))?;
    match std::fs::remove_file(&stamp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("failed to remove `{}`", stamp.display()))?
        }
        _ => {}
    }
    let log_path = out.join(LOG);
    let log = std::fs::File::create(&log_path).with_context(|| format!("failed to create `{}`", log_path.display()))?;
    for (index, step) in steps.iter().enumerate() {
        run_step(fork, index, step, &prepared.dir, &log, &log_path)?;
    }
    for output in &recipe.outputs {
        if !out.join(output).exists() {
            return Err(Diagnostic::check(format!(
                "the build of `{}` finished without its output `{output}` (`build.outputs` in `{}`)",
                fork.name,
                fork.recipe_path.display()
            ))
            .into());
        }
    }
    write_atomic(&stamp, format!("{key}\n").as_bytes())?;
    Ok(Built { out, head: prepared.head, patches: prepared.patches, fresh: false, elapsed: started.elapsed() })
}

/// Every requirement that is missing, in one error whose help names the
/// Debian packages that provide them.
fn check_requirements(name: &str, requires: &[Requirement]) -> Result<()> {
    let missing: Vec<&Requirement> = requires
        .iter()
        .filter(|r| match (&r.tool, &r.file) {
            (Some(tool), _) => find_program(tool).is_none(),
            (None, Some(file)) => !Path::new(file).exists(),
            (None, None) => false,
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let what: Vec<String> = missing
        .iter()
        .map(|r| match (&r.tool, &r.file) {
            (Some(tool), _) => format!("`{tool}` (not on PATH)"),
            (_, file) => format!("`{}`", file.as_deref().unwrap_or_default()),
        })
        .collect();
    let mut packages: Vec<&str> = missing.iter().filter_map(|r| r.debian.as_deref()).collect();
    packages.dedup();
    let mut error = Diagnostic::env(format!("building `{name}` needs {}", what.join(", ")));
    if !packages.is_empty() {
        error = error.help(format!("on Debian: `apt-get install {}`", packages.join(" ")));
    }
    Err(error.into())
}

/// The steps with `{out}` (the output directory) and `{jobs}` (the number
/// of CPUs) filled in.
fn render(build: &Build, out: &Path) -> Vec<Vec<String>> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).to_string();
    let out = out.to_string_lossy();
    build
        .steps
        .iter()
        .map(|step| step.iter().map(|arg| arg.replace("{out}", &out).replace("{jobs}", &jobs)).collect())
        .collect()
}

/// What the outputs depend on: the source commit and the exact commands.
fn stamp_key(head: git2::Oid, steps: &[Vec<String>]) -> String {
    let mut text = head.to_string();
    for step in steps {
        text.push('\n');
        text.push_str(&step.join("\u{1f}"));
    }
    sha256_hex(text.as_bytes())
}

fn run_step(
    fork: &Fork,
    index: usize,
    step: &[String],
    dir: &Path,
    log: &std::fs::File,
    log_path: &Path,
) -> Result<()> {
    let program = &step[0];
    let shown = step.join(" ");
    use std::io::Write;
    writeln!(&*log, "$ {shown}")?;
    let status = Command::new(program)
        .args(&step[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .status()
        .map_err(|e| {
            Diagnostic::env(format!("failed to run `{program}` (`build.steps[{index}]` of `{}`): {e}", fork.name))
        })?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log_path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    Err(Diagnostic::check(format!("`build.steps[{index}]` of `{}` failed ({status}): {shown}\n{tail}", fork.name))
        .help(format!("the whole log is `{}`; the sources are in `{}`", log_path.display(), dir.display()))
        .into())
}
