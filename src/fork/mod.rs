//! Toolchain forks: an upstream materialized as a git repository in warp's
//! cache, the patch series applied on a `warp` branch (one commit per
//! patch), and `warp rebase` as a mechanical replay onto a newer upstream.
//!
//! The series in `patches/NAME/` (in the user's repository) is the source
//! of truth; the cache repository is derived from it and can be rebuilt at
//! any time. A rebase works only in the cache: the user's `patches/` is
//! rewritten once, at the end, when every patch has found its place.

pub mod build;
pub mod recipe;
pub mod series;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::{Commit, Oid, Repository, Signature, build::CheckoutBuilder};
use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::fs::{sha256_hex, write_atomic};
pub use recipe::{Fork, Source};

/// The branch the series lives on in the cache repository.
pub const BRANCH: &str = "refs/heads/warp";
/// The upstream commit the branch starts from.
const BASE_REF: &str = "refs/warp/base";
/// What the branch was built from (series digest), to skip rebuilding.
const BUILT_FROM: &str = "warp-built-from";
/// An unfinished rebase.
const REBASE_STATE: &str = "warp-rebase.json";

/// Where the upstream comes from: `--upstream`, then
/// `$WARP_MIRROR_DIR/NAME`, then the recipe.
pub fn upstream_url(fork: &Fork, override_url: Option<&str>) -> Option<String> {
    if let Some(url) = override_url {
        return Some(url.to_string());
    }
    if let Some(dir) = std::env::var_os("WARP_MIRROR_DIR") {
        return Some(PathBuf::from(dir).join(&fork.name).to_string_lossy().into_owned());
    }
    match fork.recipe.source() {
        Source::Git { url, .. } => Some(url),
        Source::Npm { .. } => None,
    }
}

/// The cache repository for `fork`.
pub fn work_dir(fork: &Fork) -> Result<PathBuf> {
    Ok(work_root()?.join(&fork.name))
}

/// Where every fork's work tree lives.
pub fn work_root() -> Result<PathBuf> {
    crate::fs::CacheArea::Toolchains.dir()
}

fn open_or_init(dir: &Path) -> Result<Repository> {
    match Repository::open(dir) {
        Ok(repo) => Ok(repo),
        Err(_) => {
            std::fs::create_dir_all(dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
            Repository::init(dir).with_context(|| format!("failed to create a git repository in `{}`", dir.display()))
        }
    }
}

/// The identity warp commits as; times come from the patches, so the same
/// series on the same base gives the same commits.
fn committer(time: git2::Time) -> Result<Signature<'static>> {
    Ok(Signature::new("warp", "warp@localhost", &time)?)
}

/// Fetches every branch and tag of `url` into the cache repository.
fn fetch(repo: &Repository, url: &str) -> Result<()> {
    let refspecs = ["+refs/heads/*:refs/remotes/upstream/*", "+refs/tags/*:refs/tags/*"];
    let networked = ["http://", "https://", "ssh://", "git://", "git@"].iter().any(|p| url.starts_with(p));
    if networked {
        // libgit2 is built without TLS here; the git CLI knows the network.
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(["fetch", "--quiet", url])
            .args(refspecs)
            .output()
            .map_err(|e| Diagnostic::env(format!("failed to run `git` to fetch `{url}`: {e}")))?;
        if !output.status.success() {
            return Err(Diagnostic::env(format!(
                "failed to fetch `{url}`: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
            .help("point warp at a local mirror: `--upstream PATH`, or WARP_MIRROR_DIR=DIR with DIR/NAME a git repository")
            .into());
        }
        return Ok(());
    }
    if !url.contains("://") && !Path::new(url).exists() {
        return Err(Diagnostic::env(format!("upstream `{url}` does not exist"))
            .help("`--upstream` and WARP_MIRROR_DIR/NAME must name a git repository (`cargo xtask mirror wasi-libc DIR/wasi-libc` builds one)")
            .into());
    }
    let mut remote = repo.remote_anonymous(url)?;
    remote.fetch(&refspecs, None, None).map_err(|e| {
        Diagnostic::env(format!("failed to fetch upstream `{url}`: {}", e.message()))
            .help("`--upstream` and WARP_MIRROR_DIR/NAME must name a git repository")
    })?;
    Ok(())
}

/// A branch, tag or commit of the fetched upstream.
fn resolve<'r>(repo: &'r Repository, reference: &str) -> Result<Commit<'r>> {
    for name in [format!("refs/remotes/upstream/{reference}"), format!("refs/tags/{reference}")] {
        if let Ok(found) = repo.find_reference(&name) {
            return Ok(found.peel_to_commit()?);
        }
    }
    let object = repo.revparse_single(reference).map_err(|_| {
        Diagnostic::env(format!("upstream has no branch, tag or commit `{reference}`"))
            .help("name a ref the upstream has; `warp toolchain status NAME` shows the current base")
    })?;
    Ok(object.peel_to_commit()?)
}

fn is_dirty(repo: &Repository) -> Result<bool> {
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true).include_ignored(false);
    Ok(!repo.statuses(Some(&mut options))?.is_empty())
}

fn state_path(repo: &Repository, name: &str) -> PathBuf {
    repo.path().join(name)
}

/// The series' identity: base plus every patch's bytes.
fn series_digest(base: Oid, patches: &[PathBuf]) -> Result<String> {
    let mut all = base.to_string().into_bytes();
    for patch in patches {
        all.extend(std::fs::read(patch).with_context(|| format!("failed to read `{}`", patch.display()))?);
    }
    Ok(sha256_hex(&all))
}

/// The prepared source tree of a fork.
#[derive(Debug)]
pub struct Prepared {
    pub dir: PathBuf,
    pub base: Oid,
    pub head: Oid,
    pub patches: usize,
    /// Nothing was rebuilt: the tree already matched the series.
    pub reused: bool,
}

/// Materializes `fork`: the upstream at its base in the cache, then each
/// patch as one commit on the `warp` branch, checked out. Refuses to throw
/// away work in the cache that is not in `patches/` unless `force`.
pub fn prepare(fork: &Fork, upstream: Option<&str>, force: bool) -> Result<Prepared> {
    let dir = work_dir(fork)?;
    let repo = open_or_init(&dir)?;
    if state_path(&repo, REBASE_STATE).exists() {
        return Err(Diagnostic::check(format!("a rebase of `{}` is in progress in `{}`", fork.name, dir.display()))
            .help(format!("finish it with `warp rebase {0} --continue`, or `warp rebase {0} --abort`", fork.name))
            .into());
    }
    let patches = fork.patch_files()?;
    let base = base_commit(fork, &repo, upstream)?;
    let digest = series_digest(base, &patches)?;
    let built_from = std::fs::read_to_string(state_path(&repo, BUILT_FROM)).unwrap_or_default();
    let head = repo.find_reference(BRANCH).ok().and_then(|r| r.target());
    let recorded_head = built_from.split_whitespace().nth(1).and_then(|id| Oid::from_str(id).ok());
    if !force && head.is_some() {
        if is_dirty(&repo)? {
            return Err(unexported(fork, &dir, "has uncommitted changes"));
        }
        if recorded_head.is_some() && head != recorded_head {
            return Err(unexported(fork, &dir, "has commits that are not in the patch series"));
        }
    }
    if let (Some(head), true) = (head, built_from.split_whitespace().next() == Some(digest.as_str()))
        && head_is_checked_out(&repo)
        && !is_dirty(&repo)?
    {
        return Ok(Prepared { dir, base, head, patches: patches.len(), reused: true });
    }

    let base_commit = repo.find_commit(base)?;
    repo.reference(BASE_REF, base, true, "warp: base")?;
    check_out_branch(&repo, base_commit.id())?;
    let mut head = base;
    for path in &patches {
        match apply_patch(&repo, path) {
            Ok(id) => head = id,
            Err(e) => {
                // Back to the last complete build (or none), so that fixing
                // the patch and preparing again needs no `--force`.
                match recorded_head.filter(|id| repo.find_commit(*id).is_ok()) {
                    Some(previous) => check_out_branch(&repo, previous)?,
                    None => {
                        let _ = std::fs::remove_file(state_path(&repo, BUILT_FROM));
                    }
                }
                return Err(Diagnostic::check(format!("patch `{}` does not apply: {e:#}", display_name(path))).into());
            }
        }
    }
    std::fs::write(state_path(&repo, BUILT_FROM), format!("{digest} {head}\n"))?;
    Ok(Prepared { dir, base, head, patches: patches.len(), reused: false })
}

/// Points the `warp` branch at `id` and checks it out, discarding any
/// work-tree state (callers have checked there is nothing to lose).
fn check_out_branch(repo: &Repository, id: Oid) -> Result<()> {
    repo.reference(BRANCH, id, true, "warp")?;
    repo.set_head(BRANCH)?;
    repo.checkout_head(Some(CheckoutBuilder::new().force().remove_untracked(true)))?;
    Ok(())
}

fn head_is_checked_out(repo: &Repository) -> bool {
    repo.head().ok().and_then(|h| h.name().map(str::to_string)).as_deref() == Some(BRANCH)
}

fn unexported(fork: &Fork, dir: &Path, what: &str) -> anyhow::Error {
    Diagnostic::check(format!("the `{}` work tree `{}` {what}", fork.name, dir.display()))
        .help(format!(
            "keep them with `warp patches export {0}` (commit first), or drop them with `--force`",
            fork.name
        ))
        .into()
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The commit the series applies to: `UPSTREAM_REF`, else the recipe's ref.
fn base_commit(fork: &Fork, repo: &Repository, upstream: Option<&str>) -> Result<Oid> {
    match fork.recipe.source() {
        Source::Git { reference, .. } => {
            let url = upstream_url(fork, upstream).expect("git recipes have a URL");
            fetch(repo, &url)?;
            let wanted = fork.upstream_ref().unwrap_or(reference);
            Ok(resolve(repo, &wanted)?.id())
        }
        Source::Npm { package, version } => {
            // `UPSTREAM_REF` names the import's tag, `npm/VERSION`.
            let recorded = fork.upstream_ref();
            let wanted = recorded.as_deref().map_or(version.as_str(), |r| r.strip_prefix("npm/").unwrap_or(r));
            npm_import(repo, &package, wanted, upstream)
        }
    }
}

/// Applies one format-patch file to the index and work tree and commits it.
fn apply_patch(repo: &Repository, path: &Path) -> Result<Oid> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let patch = series::parse(&bytes).map_err(|e| anyhow::anyhow!("not a `git format-patch` file: {e}"))?;
    let diff = git2::Diff::from_buffer(&patch.diff).context("its diff cannot be parsed")?;
    let mut failed_hunks = Vec::new();
    let mut options = git2::ApplyOptions::new();
    options.hunk_callback(|hunk| {
        if let Some(hunk) = hunk {
            failed_hunks.push(hunk.old_start());
        }
        true
    });
    if let Err(e) = repo.apply(&diff, git2::ApplyLocation::Both, Some(&mut options)) {
        let files: Vec<String> =
            diff.deltas().filter_map(|d| d.new_file().path().map(|p| p.display().to_string())).collect();
        anyhow::bail!("{} (files: {})", e.message(), files.join(", "));
    }
    let mut index = repo.index()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let time = git2::Time::new(patch.time.0, patch.time.1);
    let author = Signature::new(&patch.author_name, &patch.author_email, &time)?;
    let parent = repo.head()?.peel_to_commit()?;
    Ok(repo.commit(Some("HEAD"), &author, &committer(time)?, &patch.message(), &tree, &[&parent])?)
}

/// Imports `package@version` from the npm registry as an upstream commit
/// (tag `npm/VERSION`), on top of any version imported before.
fn npm_import(repo: &Repository, package: &str, version: &str, upstream: Option<&str>) -> Result<Oid> {
    let tag = format!("refs/tags/npm/{version}");
    if let Ok(found) = repo.find_reference(&tag) {
        return Ok(found.peel_to_commit()?.id());
    }
    let scratch = tempfile::tempdir()?;
    let tarball = match upstream {
        Some(path) => PathBuf::from(path),
        None => {
            let spec = format!("{package}@{version}");
            let output = std::process::Command::new("npm")
                .args(["pack", "--silent", &spec, "--pack-destination"])
                .arg(scratch.path())
                .output()
                .map_err(|e| {
                    Diagnostic::env(format!("failed to run `npm pack {spec}`: {e}"))
                        .help("install Node.js and npm (Debian: `apt-get install npm`)")
                })?;
            if !output.status.success() {
                return Err(Diagnostic::env(format!(
                    "`npm pack {spec}` failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
                .into());
            }
            let name = String::from_utf8_lossy(&output.stdout).trim().lines().last().unwrap_or_default().to_string();
            scratch.path().join(name)
        }
    };
    let unpacked = scratch.path().join("unpacked");
    let file = std::fs::File::open(&tarball).with_context(|| format!("failed to open `{}`", tarball.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(&unpacked)
        .with_context(|| format!("failed to unpack `{}`", tarball.display()))?;
    let root = unpacked.join("package");
    let root = if root.is_dir() { root } else { unpacked };

    // A tree from the unpacked files, committed on top of the last import.
    let mut builder = TreeWriter { repo };
    let tree = repo.find_tree(builder.write_dir(&root)?)?;
    let time = git2::Time::new(0, 0);
    let signature = Signature::new("npm", "registry@npmjs.org", &time)?;
    let previous: Vec<Commit<'_>> =
        repo.find_reference("refs/warp/npm-latest").ok().and_then(|r| r.peel_to_commit().ok()).into_iter().collect();
    let parents: Vec<&Commit<'_>> = previous.iter().collect();
    let id = repo.commit(None, &signature, &signature, &format!("{package}@{version} from npm\n"), &tree, &parents)?;
    repo.reference(&tag, id, true, "warp: npm import")?;
    repo.reference("refs/warp/npm-latest", id, true, "warp: npm import")?;
    Ok(id)
}

struct TreeWriter<'r> {
    repo: &'r Repository,
}

impl TreeWriter<'_> {
    fn write_dir(&mut self, dir: &Path) -> Result<Oid> {
        let mut builder = self.repo.treebuilder(None)?;
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                let id = self.write_dir(&entry.path())?;
                builder.insert(&name, id, 0o040000)?;
            } else if kind.is_file() {
                let id = self.repo.blob_path(&entry.path())?;
                use std::os::unix::fs::PermissionsExt;
                let executable = entry.metadata()?.permissions().mode() & 0o111 != 0;
                builder.insert(&name, id, if executable { 0o100755 } else { 0o100644 })?;
            }
        }
        Ok(builder.write()?)
    }
}

/// What `warp toolchain status` shows.
#[derive(Debug, Serialize)]
pub struct Status {
    pub name: String,
    pub dir: PathBuf,
    pub materialized: bool,
    pub base: Option<String>,
    /// The upstream ref recorded in `patches/NAME/UPSTREAM_REF`.
    pub upstream_ref: Option<String>,
    pub patches_in_series: usize,
    pub patches_applied: usize,
    pub dirty: bool,
    pub rebase_in_progress: bool,
}

pub fn status(fork: &Fork) -> Result<Status> {
    let dir = work_dir(fork)?;
    let patches = fork.patch_files()?.len();
    let mut status = Status {
        name: fork.name.clone(),
        dir: dir.clone(),
        materialized: false,
        base: None,
        upstream_ref: fork.upstream_ref(),
        patches_in_series: patches,
        patches_applied: 0,
        dirty: false,
        rebase_in_progress: false,
    };
    let Ok(repo) = Repository::open(&dir) else { return Ok(status) };
    let (Ok(base), Ok(head)) = (repo.refname_to_id(BASE_REF), repo.refname_to_id(BRANCH)) else { return Ok(status) };
    status.materialized = true;
    status.base = Some(base.to_string());
    status.patches_applied = commits_between(&repo, base, head)?.len();
    status.dirty = is_dirty(&repo)?;
    status.rebase_in_progress = state_path(&repo, REBASE_STATE).exists();
    Ok(status)
}

/// Commits after `base` up to `head`, oldest first.
fn commits_between(repo: &Repository, base: Oid, head: Oid) -> Result<Vec<Oid>> {
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    walk.hide(base)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    Ok(walk.collect::<Result<Vec<_>, _>>()?)
}

/// Rewrites `patches/NAME/` from the `warp` branch: one file per commit,
/// then `UPSTREAM_REF`. Files are written before stale ones are removed,
/// each atomically, so an interruption never leaves a half series.
pub fn export(fork: &Fork) -> Result<Vec<PathBuf>> {
    let dir = work_dir(fork)?;
    let repo = Repository::open(&dir).map_err(|_| {
        Diagnostic::env(format!("`{}` is not prepared yet", fork.name))
            .help(format!("run `warp toolchain prepare {}`", fork.name))
    })?;
    let base = repo.refname_to_id(BASE_REF)?;
    let head = repo.refname_to_id(BRANCH)?;
    let written = write_series(fork, &repo, base, head)?;
    let digest = series_digest(base, &fork.patch_files()?)?;
    std::fs::write(state_path(&repo, BUILT_FROM), format!("{digest} {head}\n"))?;
    Ok(written)
}

fn write_series(fork: &Fork, repo: &Repository, base: Oid, head: Oid) -> Result<Vec<PathBuf>> {
    let commits = commits_between(repo, base, head)?;
    let mut written = Vec::new();
    for (index, id) in commits.iter().enumerate() {
        let commit = repo.find_commit(*id)?;
        let parent = commit.parent(0)?;
        let diff = repo.diff_tree_to_tree(Some(&parent.tree()?), Some(&commit.tree()?), None)?;
        let summary = commit.summary().unwrap_or_default().to_string();
        let body = commit.body().unwrap_or_default().to_string();
        let mut options = git2::EmailCreateOptions::new();
        let email = git2::Email::from_diff(
            &diff,
            index + 1,
            commits.len(),
            &Oid::zero(),
            summary.as_str(),
            body.as_str(),
            &commit.author(),
            &mut options,
        )?;
        let path = fork.patches_dir.join(series::file_name(index + 1, &summary));
        write_atomic(&path, &series::with_signature(email.as_slice()))?;
        written.push(path);
    }
    for stale in fork.patch_files()? {
        if !written.contains(&stale) {
            std::fs::remove_file(&stale).with_context(|| format!("failed to remove `{}`", stale.display()))?;
        }
    }
    std::fs::create_dir_all(&fork.patches_dir)?;
    let recorded = base_name(repo, base);
    write_atomic(&fork.patches_dir.join(recipe::UPSTREAM_REF_FILE), format!("{recorded}\n").as_bytes())?;
    Ok(written)
}

/// How `UPSTREAM_REF` names `base`: a tag that points at it (tags do not
/// move, and a mirror rebuilt elsewhere has the same tags), else its id.
fn base_name(repo: &Repository, base: Oid) -> String {
    let mut tags: Vec<String> = repo
        .references_glob("refs/tags/*")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|r| r.peel_to_commit().is_ok_and(|c| c.id() == base))
        .filter_map(|r| r.shorthand().map(str::to_string))
        .collect();
    tags.sort();
    tags.into_iter().next().unwrap_or_else(|| base.to_string())
}

/// One patch's fate in a rebase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Applied,
    /// Upstream already has this change: the patch is dropped.
    AlreadyUpstream,
    Conflicted {
        files: Vec<ConflictedFile>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictedFile {
    pub path: String,
    /// Line ranges of the conflict markers in the work tree copy.
    pub hunks: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub patch: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A rebase in progress, kept in the cache repository between commands.
#[derive(Debug, Serialize, Deserialize)]
struct RebaseState {
    old_base: String,
    old_head: String,
    new_base: String,
    /// The rebuilt branch so far.
    tip: String,
    /// Commits still to replay (old ids), oldest first; the first is the
    /// conflicted one when stopped.
    remaining: Vec<String>,
    steps: Vec<Step>,
}

#[derive(Debug, Serialize)]
pub struct Rebased {
    pub new_base: String,
    pub steps: Vec<Step>,
    /// The series was rewritten (false: stopped on a conflict).
    pub finished: bool,
    pub dir: PathBuf,
    pub written: Vec<PathBuf>,
}

/// Replays the series onto `onto` (default: the recipe's ref, fetched anew).
pub fn rebase(fork: &Fork, onto: Option<&str>, upstream: Option<&str>) -> Result<Rebased> {
    let prepared = prepare(fork, upstream, false)?;
    let repo = Repository::open(&prepared.dir)?;
    let new_base = match (fork.recipe.source(), onto) {
        (Source::Git { reference, .. }, onto) => resolve(&repo, onto.unwrap_or(&reference))?.id(),
        (Source::Npm { package, version }, onto) => npm_import(&repo, &package, onto.unwrap_or(&version), upstream)?,
    };
    let old = commits_between(&repo, prepared.base, prepared.head)?;
    let state = RebaseState {
        old_base: prepared.base.to_string(),
        old_head: prepared.head.to_string(),
        new_base: new_base.to_string(),
        tip: new_base.to_string(),
        remaining: old.iter().map(Oid::to_string).collect(),
        steps: Vec::new(),
    };
    replay(fork, &repo, state)
}

/// `warp rebase --continue`: takes the resolved files, then goes on.
pub fn continue_rebase(fork: &Fork) -> Result<Rebased> {
    let (repo, mut state) = load_state(fork)?;
    let current = Oid::from_str(&state.remaining[0])?;
    let still = conflict_markers(&repo)?;
    if !still.is_empty() {
        let list: Vec<String> = still.iter().map(|f| format!("{} (lines {})", f.path, ranges(&f.hunks))).collect();
        return Err(Diagnostic::check(format!("conflict markers remain in {}", list.join(", ")))
            .help(format!(
                "edit them out in `{}`, then run `warp rebase {} --continue` again",
                repo.workdir().unwrap().display(),
                fork.name
            ))
            .into());
    }
    let mut index = repo.index()?;
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
    index.update_all(["*"], None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let original = repo.find_commit(current)?;
    let tip = repo.find_commit(Oid::from_str(&state.tip)?)?;
    let step = state.steps.last_mut().expect("a conflicted step");
    if tree.id() == tip.tree_id() {
        step.outcome = Outcome::AlreadyUpstream;
    } else {
        let id = repo.commit(
            None,
            &original.author(),
            &committer(original.author().when())?,
            original.message().unwrap_or(""),
            &tree,
            &[&tip],
        )?;
        state.tip = id.to_string();
        step.outcome = Outcome::Applied;
    }
    state.remaining.remove(0);
    repo.cleanup_state()?;
    replay(fork, &repo, state)
}

/// `warp rebase --abort`: back to the branch as it was; `patches/` was never touched.
pub fn abort_rebase(fork: &Fork) -> Result<PathBuf> {
    let (repo, state) = load_state(fork)?;
    check_out_branch(&repo, Oid::from_str(&state.old_head)?)?;
    repo.cleanup_state()?;
    std::fs::remove_file(state_path(&repo, REBASE_STATE))?;
    Ok(repo.workdir().unwrap().to_path_buf())
}

fn load_state(fork: &Fork) -> Result<(Repository, RebaseState)> {
    let dir = work_dir(fork)?;
    let repo = Repository::open(&dir).ok();
    let text = repo.as_ref().and_then(|r| std::fs::read_to_string(state_path(r, REBASE_STATE)).ok());
    match (repo, text) {
        (Some(repo), Some(text)) => Ok((repo, serde_json::from_str(&text)?)),
        _ => Err(Diagnostic::env(format!("no rebase of `{}` is in progress", fork.name)).into()),
    }
}

fn replay(fork: &Fork, repo: &Repository, mut state: RebaseState) -> Result<Rebased> {
    let dir = repo.workdir().expect("not bare").to_path_buf();
    let names: Vec<String> = fork.patch_files()?.iter().map(|p| display_name(p)).collect();
    let patch_name = |done: usize, id: Oid| {
        names.get(done).cloned().unwrap_or_else(|| {
            repo.find_commit(id).ok().and_then(|c| c.summary().map(str::to_string)).unwrap_or_default()
        })
    };
    while let Some(next) = state.remaining.first() {
        let id = Oid::from_str(next)?;
        let commit = repo.find_commit(id)?;
        let tip = repo.find_commit(Oid::from_str(&state.tip)?)?;
        let name = patch_name(state.steps.len(), id);
        let mut index = repo.cherrypick_commit(&commit, &tip, 0, None)?;
        if index.has_conflicts() {
            // Leave the conflict in the cache work tree for the user.
            repo.set_head_detached(tip.id())?;
            repo.checkout_head(Some(CheckoutBuilder::new().force().remove_untracked(true)))?;
            repo.cherrypick(&commit, None)?;
            let files = conflict_markers(repo)?;
            state.steps.push(Step { patch: name, outcome: Outcome::Conflicted { files } });
            write_atomic(&state_path(repo, REBASE_STATE), serde_json::to_string_pretty(&state)?.as_bytes())?;
            return Ok(Rebased { new_base: state.new_base, steps: state.steps, finished: false, dir, written: vec![] });
        }
        let tree_id = index.write_tree_to(repo)?;
        if tree_id == tip.tree_id() {
            state.steps.push(Step { patch: name, outcome: Outcome::AlreadyUpstream });
        } else {
            let tree = repo.find_tree(tree_id)?;
            let author = commit.author();
            let new =
                repo.commit(None, &author, &committer(author.when())?, commit.message().unwrap_or(""), &tree, &[&tip])?;
            state.tip = new.to_string();
            state.steps.push(Step { patch: name, outcome: Outcome::Applied });
        }
        state.remaining.remove(0);
    }

    // Every patch placed: move the branch, then rewrite the series.
    let new_base = Oid::from_str(&state.new_base)?;
    let tip = repo.find_commit(Oid::from_str(&state.tip)?)?;
    repo.reference(BASE_REF, new_base, true, "warp: rebased")?;
    check_out_branch(repo, tip.id())?;
    let written = write_series(fork, repo, new_base, tip.id())?;
    let digest = series_digest(new_base, &fork.patch_files()?)?;
    std::fs::write(state_path(repo, BUILT_FROM), format!("{digest} {}\n", tip.id()))?;
    let _ = std::fs::remove_file(state_path(repo, REBASE_STATE));
    Ok(Rebased { new_base: state.new_base, steps: state.steps, finished: true, dir, written })
}

/// Files in the work tree that still hold conflict markers, with the line
/// ranges of each conflict.
fn conflict_markers(repo: &Repository) -> Result<Vec<ConflictedFile>> {
    let index = repo.index()?;
    let mut paths: Vec<String> = Vec::new();
    for conflict in index.conflicts()? {
        let conflict = conflict?;
        if let Some(entry) = conflict.our.or(conflict.their).or(conflict.ancestor) {
            paths.push(String::from_utf8_lossy(&entry.path).into_owned());
        }
    }
    if paths.is_empty() {
        // After the user's edits the index may be clean; look at the files
        // that were conflicted when the rebase stopped.
        let mut options = git2::StatusOptions::new();
        options.include_untracked(false);
        for entry in repo.statuses(Some(&mut options))?.iter() {
            if let Some(path) = entry.path() {
                paths.push(path.to_string());
            }
        }
    }
    let workdir = repo.workdir().expect("not bare");
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(workdir.join(&path)).unwrap_or_default();
        let mut hunks = Vec::new();
        let mut start = None;
        for (number, line) in text.lines().enumerate() {
            if line.starts_with("<<<<<<<") {
                start = Some(number + 1);
            } else if line.starts_with(">>>>>>>")
                && let Some(first) = start.take()
            {
                hunks.push((first, number + 1));
            }
        }
        if !hunks.is_empty() {
            files.push(ConflictedFile { path, hunks });
        }
    }
    Ok(files)
}

pub fn ranges(hunks: &[(usize, usize)]) -> String {
    hunks.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>().join(", ")
}
