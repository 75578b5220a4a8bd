//! `warp dev`'s loop: pack, serve, watch the files the build read, and on
//! a change rebuild with `pack`'s pipeline and swap the new component into
//! the running server (`runner::Control::Reload`): requests in flight end on
//! the old version, new ones get the new, the port never closes. A failed
//! build leaves the last good version serving. An edit of `warp.toml` that
//! touches only run-time settings rewrites the manifest without a build.
//!
//! Nothing here prints: builds are reported as [`DevEvent`]s to an
//! [`Observer`], the server's events go to the caller's `EventSink`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::manifest::Placement;
use crate::pack::{self, PackOptions, Packed};
use crate::project::World;
use crate::report::Silent;
use crate::runner::{self, Control, Event, EventSink, Stopped};
use crate::size::{Breach, Sizes};

/// How long the files must be quiet before a rebuild starts.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(50);

/// Where `warp dev` serves unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";

/// What `warp dev` reports about its builds.
#[derive(Debug)]
pub enum DevEvent {
    /// A build started; `changed` is empty for the first one.
    Building { changed: Vec<PathBuf> },
    /// A build (or a settings-only refresh) succeeded and its version now serves.
    Built(Built),
    /// A build succeeded with exactly what is serving: nothing swapped.
    Unchanged { changed: Vec<PathBuf>, version: u32, elapsed: Duration },
    /// A build failed; the last good version (if any) keeps serving.
    BuildFailed { changed: Vec<PathBuf>, error: anyhow::Error, serving: Option<u32> },
    /// The build succeeded but the server refused its component.
    SwapFailed { error: String, serving: u32 },
    /// The files watched, after a build.
    Watching { files: usize },
    /// A command (a `cli` component) ended: its exit code, or how it was stopped.
    Ran { version: u32, outcome: Result<runner::CliExit, String>, elapsed: Duration },
}

#[derive(Debug)]
pub struct Built {
    pub name: String,
    pub version: u32,
    pub changed: Vec<PathBuf>,
    /// From the first change seen (or the start) to the new version serving.
    pub elapsed: Duration,
    pub sizes: Sizes,
    pub breaches: Vec<Breach>,
    /// Only the run-time settings of `warp.toml` changed: no build ran.
    pub settings_only: bool,
    pub manifest: PathBuf,
}

impl DevEvent {
    /// The `event` field of its JSON line.
    pub fn name(&self) -> &'static str {
        match self {
            DevEvent::Building { .. } => "building",
            DevEvent::Built(_) => "built",
            DevEvent::Unchanged { .. } => "unchanged",
            DevEvent::BuildFailed { .. } => "build-failed",
            DevEvent::SwapFailed { .. } => "swap-failed",
            DevEvent::Watching { .. } => "watching",
            DevEvent::Ran { .. } => "ran",
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let mut value = match self {
            DevEvent::Building { changed } => json!({ "changed": changed }),
            DevEvent::Built(built) => json!({
                "name": built.name,
                "version": built.version,
                "changed": built.changed,
                "ms": built.elapsed.as_millis() as u64,
                "raw_bytes": built.sizes.raw_bytes,
                "gzip_bytes": built.sizes.gzip_bytes,
                "breaches": built.breaches,
                "settings_only": built.settings_only,
                "manifest": built.manifest,
            }),
            DevEvent::Unchanged { changed, version, elapsed } => {
                json!({ "changed": changed, "version": version, "ms": elapsed.as_millis() as u64 })
            }
            DevEvent::BuildFailed { changed, error, serving } => json!({
                "changed": changed,
                "error": format!("{error:#}"),
                "diagnostics": crate::error::tool_output(error),
                "serving": serving,
            }),
            DevEvent::SwapFailed { error, serving } => json!({ "error": error, "serving": serving }),
            DevEvent::Watching { files } => json!({ "files": files }),
            DevEvent::Ran { version, outcome, elapsed } => {
                let (code, stopped, error) = match outcome {
                    Ok(runner::CliExit::Code(code)) => (Some(*code), None, None),
                    Ok(runner::CliExit::Stopped(signal)) => (None, Some(signal.name()), None),
                    Err(error) => (None, None, Some(error)),
                };
                json!({
                    "version": version,
                    "code": code,
                    "stopped": stopped,
                    "error": error,
                    "ms": elapsed.as_millis() as u64,
                })
            }
        };
        value["event"] = self.name().into();
        value
    }
}

/// Who hears about builds.
pub trait Observer: Send + Sync {
    fn dev(&self, event: &DevEvent);
}

/// What `warp dev` was asked to do.
#[derive(Debug, Clone)]
pub struct DevOptions {
    pub path: PathBuf,
    pub pack: PackOptions,
    pub listen: SocketAddr,
    pub debounce: Duration,
    /// Arguments for a `cli` component, rerun after each build.
    pub args: Vec<String>,
}

/// What the caller sends while the loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Rebuild now, changed or not.
    Rebuild,
    /// Stop serving (guests that asked for the signal get it first) and return.
    Stop(runner::Signal),
}

/// Packs, serves (an `http` component) or runs (a `cli` one), and watches
/// until a [`Command::Stop`]; returns how the server ended (`None` for a
/// command, or when no build ever succeeded).
pub async fn run(
    options: DevOptions,
    mut commands: mpsc::Receiver<Command>,
    observer: Arc<dyn Observer>,
    events: Arc<dyn EventSink>,
) -> Result<Option<Stopped>> {
    let mut options = options;
    options.pack.build.dev = true;
    let (changes_tx, mut changes) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    // Saves during a build, before its files are watched, are found by their times.
    let missed = changes_tx.clone();
    let mut watch = Watch::new(changes_tx)?;
    let debounce = options.debounce;
    let root = crate::project::Project::open(&options.path)?.root;
    let root = root.canonicalize().unwrap_or(root);
    // The port first: a taken one is found before a build, and it stays
    // open from here on (a command's project gives it back).
    let listener = runner::bind(options.listen).await?;

    // The first good build: until then, nothing serves and every file of
    // the project (outside build outputs) counts.
    let mut changed = Vec::new();
    let mut started = Instant::now();
    let mut began;
    let mut packed = loop {
        observer.dev(&DevEvent::Building { changed: changed.clone() });
        began = SystemTime::now();
        let result = tokio::select! {
            result = build(&options) => result,
            _ = stop_asked(&mut commands) => return Ok(None),
        };
        match result {
            Ok(packed) => break packed,
            Err(error) => {
                observer.dev(&DevEvent::BuildFailed { changed: changed.clone(), error, serving: None });
                watch.fallback(&root)?;
                observer.dev(&DevEvent::Watching { files: 0 });
                tokio::select! {
                    batch = changes.recv() => {
                        changed = gather(batch, &mut changes, debounce).await;
                        started = Instant::now();
                    }
                    command = commands.recv() => match command {
                        Some(Command::Rebuild) => {
                            changed = Vec::new();
                            started = Instant::now();
                        }
                        Some(Command::Stop(_)) | None => return Ok(None),
                    },
                }
            }
        }
    };
    let events: Arc<dyn EventSink> = Arc::new(DevSink { inner: events });
    let mut target = Target::start(&packed, &options, listener, events, observer.clone())?;
    let mut version = 1;
    observer.dev(&DevEvent::Built(built(&packed, version, Vec::new(), started.elapsed(), false)));
    target.launch(version);
    let mut state = Sources::default();
    state.record(&packed, &root);
    observer.dev(&DevEvent::Watching { files: watch.sync(&state)? });
    let _ = missed.send(state.modified_since(began));
    let mut last_failed = false;

    let signal = loop {
        let changed = tokio::select! {
            batch = changes.recv() => {
                let batch = gather(batch, &mut changes, debounce).await;
                // The watcher lost events (its queue overflowed): rebuild, as for SIGHUP.
                if watch.lost.swap(false, Ordering::Relaxed) {
                    Vec::new()
                } else {
                    let relevant = state.relevant(batch, last_failed);
                    if relevant.is_empty() {
                        continue;
                    }
                    relevant
                }
            }
            command = commands.recv() => match command {
                Some(Command::Rebuild) => Vec::new(),
                Some(Command::Stop(signal)) => break signal,
                None => break runner::Signal::Interrupt,
            },
        };
        let started = Instant::now();
        let began = SystemTime::now();
        let settings_only = !changed.is_empty() && state.settings_only(&changed);
        if !settings_only {
            observer.dev(&DevEvent::Building { changed: changed.clone() });
        }
        let work = async {
            if settings_only {
                let previous = packed.clone();
                tokio::task::spawn_blocking(move || pack::refresh_settings(&previous, &Silent))
                    .await
                    .context("the settings refresh failed")?
            } else {
                build(&options).await
            }
        };
        let result = tokio::select! {
            result = work => result,
            signal = stop_asked(&mut commands) => break signal,
        };
        let next = match result {
            Ok(next) => next,
            Err(error) => {
                last_failed = true;
                observer.dev(&DevEvent::BuildFailed { changed, error, serving: Some(version) });
                continue;
            }
        };
        last_failed = false;
        state.record(&next, &root);
        let files = watch.sync(&state)?;
        let _ = missed.send(state.modified_since(began));
        let same = next.manifest == packed.manifest && next.manifest_path == packed.manifest_path;
        packed = next;
        // A command reruns on every change, as `cargo watch -x run` does.
        if same && matches!(target, Target::Server { .. }) {
            observer.dev(&DevEvent::Unchanged { changed, version, elapsed: started.elapsed() });
            continue;
        }
        let outcome = tokio::select! {
            outcome = target.swap(&packed) => outcome,
            signal = stop_asked(&mut commands) => break signal,
        };
        match outcome {
            Ok(()) => {
                version += 1;
                let event = built(&packed, version, changed, started.elapsed(), settings_only);
                observer.dev(&DevEvent::Built(event));
                target.launch(version);
                observer.dev(&DevEvent::Watching { files });
            }
            Err(error) => observer.dev(&DevEvent::SwapFailed { error, serving: version }),
        }
    };
    drop(watch);
    target.stop(signal).await
}

/// What the loop keeps current: a server it swaps components into, or a
/// command it reruns.
enum Target {
    Server {
        control: mpsc::Sender<Control>,
        task: JoinHandle<Result<Stopped>>,
    },
    Command {
        args: Vec<String>,
        events: Arc<dyn EventSink>,
        observer: Arc<dyn Observer>,
        manifest: PathBuf,
        /// The run under way: its control channel and task.
        running: Option<(mpsc::Sender<Control>, JoinHandle<()>)>,
    },
}

impl Target {
    /// Serves an `http` component; a `cli` one is run by [`Target::launch`].
    fn start(
        packed: &Packed,
        options: &DevOptions,
        listener: tokio::net::TcpListener,
        events: Arc<dyn EventSink>,
        observer: Arc<dyn Observer>,
    ) -> Result<Target> {
        let manifest = packed.manifest_path.clone();
        match packed.manifest.component.world {
            World::Http => {
                let loaded = runner::load(&manifest, None, Placement::InsideTree)?;
                let (control, control_rx) = mpsc::channel(8);
                let task = tokio::spawn(runner::serve(loaded, listener, control_rx, events));
                Ok(Target::Server { control, task })
            }
            World::Cli => Ok(Target::Command { args: options.args.clone(), events, observer, manifest, running: None }),
        }
    }

    /// Puts the packed component in place: a reload of the server (whose
    /// outcome is awaited), or, for a command, the end of the run under way.
    async fn swap(&mut self, packed: &Packed) -> Result<(), String> {
        match self {
            Target::Server { control, .. } => {
                let (reply, outcome) = tokio::sync::oneshot::channel();
                let reload = Control::Reload { manifest: Some(packed.manifest_path.clone()), reply: Some(reply) };
                if control.send(reload).await.is_err() {
                    return Err("the server has stopped".into());
                }
                match outcome.await {
                    Ok(outcome) => outcome.map(drop),
                    Err(_) => Err("the server has stopped".into()),
                }
            }
            Target::Command { manifest, running, .. } => {
                *manifest = packed.manifest_path.clone();
                if let Some((control, task)) = running.take() {
                    let _ = control.send(Control::Stop(runner::Signal::Interrupt)).await;
                    let _ = task.await;
                }
                Ok(())
            }
        }
    }

    /// Runs the command (version `version`); a server is already serving it.
    fn launch(&mut self, version: u32) {
        let Target::Command { args, events, observer, manifest, running } = self else { return };
        let (control, control_rx) = mpsc::channel(8);
        let (args, events, observer, manifest) = (args.clone(), events.clone(), observer.clone(), manifest.clone());
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let outcome = async {
                let loaded = tokio::task::spawn_blocking(move || runner::load(&manifest, None, Placement::InsideTree))
                    .await
                    .context("the load task failed")??;
                let shims = runner::ShimState::new(&loaded, events);
                runner::run_cli(&loaded, &shims, &args, control_rx).await
            }
            .await;
            let outcome = outcome.map_err(|e| format!("{e:#}"));
            observer.dev(&DevEvent::Ran { version, outcome, elapsed: started.elapsed() });
        });
        *running = Some((control, task));
    }

    /// Stops what runs (guests that asked for `signal` get it first).
    async fn stop(self, signal: runner::Signal) -> Result<Option<Stopped>> {
        match self {
            Target::Server { control, task, .. } => {
                let _ = control.send(Control::Stop(signal)).await;
                Ok(Some(task.await.context("the server task failed")??))
            }
            Target::Command { running, .. } => {
                if let Some((control, task)) = running {
                    let _ = control.send(Control::Stop(signal)).await;
                    let _ = task.await;
                }
                Ok(None)
            }
        }
    }
}

fn built(packed: &Packed, version: u32, changed: Vec<PathBuf>, elapsed: Duration, settings_only: bool) -> Built {
    Built {
        name: packed.manifest.name.clone(),
        version,
        changed,
        elapsed,
        sizes: packed.manifest.component.sizes,
        breaches: packed.breaches.clone(),
        settings_only,
        manifest: packed.manifest_path.clone(),
    }
}

/// Waits for a stop (a closed channel is an interrupt); a rebuild asked
/// for meanwhile is moot, one is under way.
async fn stop_asked(commands: &mut mpsc::Receiver<Command>) -> runner::Signal {
    loop {
        match commands.recv().await {
            Some(Command::Rebuild) => continue,
            Some(Command::Stop(signal)) => return signal,
            None => return runner::Signal::Interrupt,
        }
    }
}

/// One pack on a blocking thread (builds run external compilers).
async fn build(options: &DevOptions) -> Result<Packed> {
    let (path, pack) = (options.path.clone(), options.pack.clone());
    tokio::task::spawn_blocking(move || pack::pack(&path, &pack, &Silent)).await.context("the build task failed")?
}

/// The debounce: the paths of `first` and of every change after it until
/// none has come for `quiet` (a burst of saves is one rebuild).
async fn gather(
    first: Option<Vec<PathBuf>>,
    more: &mut mpsc::UnboundedReceiver<Vec<PathBuf>>,
    quiet: Duration,
) -> Vec<PathBuf> {
    let mut paths: BTreeSet<PathBuf> = first.into_iter().flatten().collect();
    while let Ok(Some(batch)) = tokio::time::timeout(quiet, more.recv()).await {
        paths.extend(batch);
    }
    paths.into_iter().collect()
}

/// Whether a file event is a change (not a read: builds open every file
/// they depend on).
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// What the last good build read, and what `warp.toml` said then.
#[derive(Default)]
struct Sources {
    files: BTreeSet<PathBuf>,
    /// Each `warp.toml` that applies → its text at the last good build
    /// (`None`: it did not exist).
    configs: BTreeMap<PathBuf, Option<String>>,
    /// Directories whose contents never count (build outputs).
    ignored: Vec<PathBuf>,
}

impl Sources {
    fn record(&mut self, packed: &Packed, root: &Path) {
        let out_dir = packed.out_dir.canonicalize().unwrap_or_else(|_| packed.out_dir.clone());
        self.ignored = vec![out_dir.clone(), root.join("target")];
        // The target directory `warp/` is in (cargo's may be elsewhere).
        if let Some(target) = out_dir.parent().filter(|p| p.file_name().is_some_and(|n| n == "target")) {
            self.ignored.push(target.to_path_buf());
        }
        self.files = packed
            .sources
            .iter()
            .map(|f| f.canonicalize().unwrap_or_else(|_| f.clone()))
            .filter(|f| !self.is_ignored(f))
            .collect();
        self.configs = packed
            .config_files
            .iter()
            .map(|f| {
                let f = canonical_in_parent(f);
                let text = std::fs::read_to_string(&f).ok();
                (f, text)
            })
            .collect();
    }

    /// The files modified at or after `since` (saved while a build ran,
    /// perhaps before the watch covered them).
    fn modified_since(&self, since: SystemTime) -> Vec<PathBuf> {
        let (files, _) = self.watched();
        files
            .into_iter()
            .filter(|f| std::fs::metadata(f).and_then(|m| m.modified()).is_ok_and(|t| t >= since))
            .cloned()
            .collect()
    }

    fn is_ignored(&self, path: &Path) -> bool {
        self.ignored.iter().any(|dir| path.starts_with(dir))
            || path.components().any(|c| matches!(c.as_os_str().to_str(), Some("node_modules" | ".git")))
    }

    /// The files the build depends on, and the directories they are in.
    fn watched(&self) -> (Vec<&PathBuf>, BTreeSet<PathBuf>) {
        let files: Vec<&PathBuf> = self.files.iter().chain(self.configs.keys()).collect();
        let dirs = files.iter().filter_map(|f| f.parent().map(Path::to_path_buf)).collect();
        (files, dirs)
    }

    /// Of the changed paths, those that matter: files the last good build
    /// read and the `warp.toml` files; after a failed build, also any other
    /// file in a watched directory (the fix may be a new file).
    fn relevant(&self, changed: Vec<PathBuf>, after_failure: bool) -> Vec<PathBuf> {
        let (_, dirs) = self.watched();
        changed
            .into_iter()
            .map(|p| canonical_in_parent(&p))
            .filter(|p| !self.is_ignored(p))
            .filter(|p| {
                self.files.contains(p)
                    || self.configs.contains_key(p)
                    || (after_failure
                        && p.is_file()
                        && !is_editor_temp(p)
                        && p.parent().is_some_and(|d| dirs.contains(d)))
            })
            .collect()
    }

    /// Whether `changed` are all `warp.toml` files whose edits touched
    /// only run-time settings.
    fn settings_only(&self, changed: &[PathBuf]) -> bool {
        changed.iter().all(|path| {
            let Some(before) = self.configs.get(path) else { return false };
            let now = std::fs::read_to_string(path).ok();
            match (before, now) {
                (Some(before), Some(now)) => crate::project::same_build_settings(before, &now),
                _ => false,
            }
        })
    }
}

/// `path` with its directory resolved (the file itself may be gone, or
/// not there yet).
fn canonical_in_parent(path: &Path) -> PathBuf {
    match (path.parent().and_then(|d| d.canonicalize().ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Swap and backup files editors write beside the file being saved.
fn is_editor_temp(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with('~')
        || name.starts_with(".#")
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
}

/// The file watcher: directories watched (not recursively) for the files
/// the build read, each change's paths sent on (reads left out).
struct Watch {
    watcher: RecommendedWatcher,
    /// Set when events were lost; the wake-up is an empty batch.
    lost: Arc<AtomicBool>,
    /// Directory → how it is watched.
    watching: BTreeMap<PathBuf, RecursiveMode>,
}

impl Watch {
    fn new(changes: mpsc::UnboundedSender<Vec<PathBuf>>) -> Result<Watch> {
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        let watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| match result {
            Ok(event) if event.need_rescan() => {
                flag.store(true, Ordering::Relaxed);
                let _ = changes.send(Vec::new());
            }
            Ok(event) if is_change(&event.kind) => {
                let _ = changes.send(event.paths);
            }
            Ok(_) => {}
            // The watcher's own trouble: what it names counts as changed.
            Err(error) => {
                let _ = changes.send(error.paths);
            }
        })
        .context("failed to start watching files")?;
        Ok(Watch { watcher, lost, watching: BTreeMap::new() })
    }

    /// Watches exactly the directories `sources` needs; returns how many
    /// files that covers.
    fn sync(&mut self, sources: &Sources) -> Result<usize> {
        let (files, dirs) = sources.watched();
        let wanted: BTreeMap<PathBuf, RecursiveMode> =
            dirs.into_iter().filter(|d| d.is_dir()).map(|d| (d, RecursiveMode::NonRecursive)).collect();
        self.set(wanted)?;
        Ok(files.len())
    }

    /// Before any build succeeded: the project directory and each of its
    /// subdirectories but build outputs, dependencies and hidden ones.
    fn fallback(&mut self, root: &Path) -> Result<()> {
        let mut wanted = BTreeMap::from([(root.to_path_buf(), RecursiveMode::NonRecursive)]);
        for entry in std::fs::read_dir(root).with_context(|| format!("failed to list `{}`", root.display()))? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() && !name.starts_with('.') && !matches!(name, "target" | "node_modules" | "vendor") {
                wanted.insert(path, RecursiveMode::Recursive);
            }
        }
        self.set(wanted)
    }

    fn set(&mut self, wanted: BTreeMap<PathBuf, RecursiveMode>) -> Result<()> {
        let stale: Vec<PathBuf> =
            self.watching.iter().filter(|(d, m)| wanted.get(*d) != Some(m)).map(|(d, _)| d.clone()).collect();
        for dir in stale {
            let _ = self.watcher.unwatch(&dir);
            self.watching.remove(&dir);
        }
        for (dir, mode) in wanted {
            if self.watching.contains_key(&dir) {
                continue;
            }
            self.watcher.watch(&dir, mode).with_context(|| format!("failed to watch `{}`", dir.display()))?;
            self.watching.insert(dir, mode);
        }
        Ok(())
    }
}

/// Forwards the server's events but its reloads' (the loop hears each
/// reload's outcome from `Control::Reload`'s reply, and reports it as its
/// own `DevEvent`s), with the request log and guests' output turned on.
struct DevSink {
    inner: Arc<dyn EventSink>,
}

impl EventSink for DevSink {
    fn emit(&self, event: &Event) {
        if !matches!(event, Event::Reloaded(_) | Event::ReloadFailed { .. }) {
            self.inner.emit(event);
        }
    }

    fn logs_requests(&self) -> bool {
        true
    }

    fn captures_guest_output(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[&str]) -> Sources {
        Sources {
            files: files.iter().map(PathBuf::from).collect(),
            configs: BTreeMap::from([(PathBuf::from("/p/warp.toml"), Some("[env]\nA = \"1\"\n".into()))]),
            ignored: vec![PathBuf::from("/p/target")],
        }
    }

    #[test]
    fn only_files_the_build_read_count_unless_the_last_build_failed() {
        let s = sources(&["/p/src/lib.rs", "/p/Cargo.toml"]);
        let changed = || vec![PathBuf::from("/p/src/lib.rs"), "/p/src/new.rs".into(), "/p/target/x.rs".into()];
        assert_eq!(s.relevant(changed(), false), [PathBuf::from("/p/src/lib.rs")]);
        // A new file counts after a failure, if it is still there.
        let dir = tempfile::tempdir().unwrap();
        let (lib, new) = (dir.path().join("lib.rs"), dir.path().join("new.rs"));
        std::fs::write(&new, "").unwrap();
        let mut s2 = sources(&[]);
        s2.files.insert(lib.clone());
        let changed2 = vec![lib.clone(), new.clone(), dir.path().join("sedX1b2")];
        assert_eq!(s2.relevant(changed2.clone(), false), std::slice::from_ref(&lib));
        assert_eq!(s2.relevant(changed2, true), [lib, new]);
        assert!(s.relevant(vec!["/p/src/.lib.rs.swp".into(), "/p/src/lib.rs~".into()], true).is_empty());
        assert!(s.relevant(vec!["/p/node_modules/x/index.js".into()], true).is_empty());
    }
}
