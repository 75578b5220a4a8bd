//! The `warp pack` pipeline: build → optimize → componentize → validate
//! against the world → measure → write component and run manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::component::{self, Interfaces};
use crate::error::Diagnostic;
use crate::lang::{self, Artifact, BuildRequest};
use crate::manifest::{self, ComponentInfo, Manifest, SCHEMA};
use crate::optimize;
use crate::project::{Dir, DirMode, Lang, Project, World};
use crate::report::Reporter;
use crate::size::{self, Breach, FunctionNames, Sizes};

pub const WARP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The wit-component release used to componentize (recorded in manifests).
pub const WIT_COMPONENT_VERSION: &str = "0.254";

/// `warp.toml`'s `[dirs]`, checked and re-expressed relative to the
/// manifest's directory (so the manifest stays movable with its project).
///
/// Each must be a directory inside the project once symlinks are resolved
/// (`/`, `..` and a link that leaves the project are refused) unless its
/// entry says `outside_project = true`: a guest sees what it is given, and
/// a typo or a planted symlink should not hand it the host. Then the rules
/// `warp run` applies at every load ([`manifest::confine`]) are applied
/// here too, so what packs also runs: no read-write directory holding the
/// manifest, the component or a cache, none holding another preopen.
fn manifest_dirs(project: &Project, manifest_path: &Path, component_path: &Path) -> Result<BTreeMap<String, Dir>> {
    let mut dirs = BTreeMap::new();
    if project.config.dirs.is_empty() {
        return Ok(dirs);
    }
    let mut resolved_dirs = Vec::new();
    let base = manifest_dir(manifest_path)?;
    let root =
        project.root.canonicalize().with_context(|| format!("failed to resolve `{}`", project.root.display()))?;
    for (guest, dir) in &project.config.dirs {
        let field = format!("warp.toml field `dirs.\"{guest}\"`");
        let path = project.root.join(&dir.path);
        let resolved = path.canonicalize().ok().filter(|p| p.is_dir()).ok_or_else(|| {
            Diagnostic::check(format!("`{}` is not a directory ({field})", path.display()))
                .help(format!("create it, or remove `\"{guest}\"` from `[dirs]`"))
        })?;
        if !resolved.starts_with(&root) && !dir.outside_project {
            let through =
                if resolved == path { String::new() } else { format!(", which resolves to `{}`,", resolved.display()) };
            let mode = if dir.mode == DirMode::Rw { ", mode = \"rw\"" } else { "" };
            return Err(Diagnostic::env(format!(
                "`{}`{through} is outside the project `{}` ({field}): the guest would see the host's files",
                path.display(),
                root.display()
            ))
            .help(format!(
                "map a directory inside the project, or opt in explicitly: \
                 `\"{guest}\" = {{ path = \"{}\"{mode}, outside_project = true }}`",
                dir.path
            ))
            .into());
        }
        let relative = relative_path(&resolved, &base).to_string_lossy().into_owned();
        resolved_dirs.push((guest.clone(), dir.clone(), resolved));
        dirs.insert(guest.clone(), Dir { path: relative, ..dir.clone() });
    }
    let confinement = manifest::Confinement::around(manifest_path, component_path)?;
    manifest::confine(&resolved_dirs, &confinement).map_err(|refused| {
        let field = format!("warp.toml field `dirs.\"{}\"`", refused.guest);
        match &refused.reason {
            // Inside the project as pack sees it, outside as `warp run` will.
            manifest::DirRefusal::OutsideProject { root: seen, .. } => Diagnostic::env(format!(
                "the manifest goes to `{}`, where `warp run` takes `{}` as the project (the nearest directory \
                 with a project file), so it would refuse `{}` ({field}) as outside it",
                base.display(),
                seen.display(),
                refused.host.display()
            ))
            .help("write the component inside the project (`-o`), or mark the entry `outside_project = true`")
            .into(),
            _ => refused.diagnostic(&field, "then pack again"),
        }
    })?;
    Ok(dirs)
}

/// `warp.toml`'s shims, with each database's `ca` checked and re-expressed
/// relative to the manifest's directory.
fn manifest_shims(project: &Project, manifest_path: &Path) -> Result<crate::project::ShimConfig> {
    let mut shims = project.config.shims.clone();
    for (index, database) in shims.database.iter_mut().enumerate() {
        let Some(ca) = &database.ca else { continue };
        let path = project.root.join(ca);
        let resolved = path.canonicalize().ok().filter(|p| p.is_file()).ok_or_else(|| {
            Diagnostic::check(format!(
                "`{}` is not a file (warp.toml field `shims.database[{index}].ca`)",
                path.display()
            ))
            .help("give the PEM file of the CA certificates that sign the database server's certificate")
        })?;
        database.ca = Some(relative_path(&resolved, &manifest_dir(manifest_path)?).to_string_lossy().into_owned());
    }
    Ok(shims)
}

/// The manifest's directory, created and canonical (paths in the manifest
/// are relative to it).
fn manifest_dir(manifest_path: &Path) -> Result<PathBuf> {
    let base = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(base).with_context(|| format!("failed to create `{}`", base.display()))?;
    base.canonicalize().with_context(|| format!("failed to resolve `{}`", base.display()))
}

/// `path` relative to `base`; both absolute and canonical.
fn relative_path(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..base.len() {
        relative.push("..");
    }
    for part in &path[common..] {
        relative.push(part);
    }
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    relative
}

/// What validating and measuring a component found, taken from the
/// manifest already beside it when that describes the same bytes (same
/// digest, written by this warp): a no-op repack of a 13 MB JS component
/// then skips the parse, the gzip and the contributor walk.
fn measured_before(manifest_path: &Path, digest: &str) -> Option<(Sizes, Interfaces, Vec<size::Contributor>)> {
    let previous = Manifest::read(manifest_path).ok()?;
    let same = previous.component.sha256 == digest
        && previous.toolchain.get("warp").is_some_and(|v| v == WARP_VERSION)
        && previous.toolchain.get("wit-component").is_some_and(|v| v == WIT_COMPONENT_VERSION);
    same.then(|| {
        let interfaces = Interfaces { exports: previous.component.exports, imports: previous.component.imports };
        (previous.component.sizes, interfaces, previous.contributors)
    })
}

/// Part of the reuse key: bump when optimizing or componentizing changes,
/// so a stale cached component is never served.
const PIPELINE_REVISION: &str = "pipeline-4: wasm-opt -Oz gufa converge, strip custom sections, no component names";

/// How much a project's pack reuse cache (`<out>/.cache`) keeps: a few
/// versions of a JS engine-sized component, hundreds of a Rust one.
pub const REUSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    pub lang: Option<Lang>,
    pub build: BuildRequest,
    /// `-o`: where the component goes; the manifest goes beside it.
    pub out: Option<PathBuf>,
}

/// Where `warp dev` writes, under the unit's output directory: its
/// unoptimized builds never overwrite what `warp pack` wrote.
pub const DEV_DIR: &str = "dev";

#[derive(Debug, Clone)]
pub struct Packed {
    pub manifest: Manifest,
    pub component_path: PathBuf,
    pub manifest_path: PathBuf,
    pub breaches: Vec<Breach>,
    /// Optimizing and componentizing were skipped: the build output was unchanged.
    pub reused: bool,
    /// The source files the build read (what `warp dev` watches).
    pub sources: Vec<PathBuf>,
    /// The `warp.toml` files that apply (the project's and the member's),
    /// whether or not they exist yet.
    pub config_files: Vec<PathBuf>,
    /// The directory whose `warp.toml` settings apply (the member's).
    pub settings_root: PathBuf,
    /// The unit's output directory (what `warp dev` never watches).
    pub out_dir: PathBuf,
}

/// The pipeline, stage by stage: resolve the project to a language's unit,
/// check what the manifest will say about the host, take the output
/// directory's lock, build, optimize and componentize (or reuse), validate
/// and measure, then write the component and its manifest.
pub fn pack(path: &Path, options: &PackOptions, reporter: &dyn Reporter) -> Result<Packed> {
    let project = Project::open(path)?;
    let project_config = project.root.join(crate::project::CONFIG_FILE);
    let (language, resolved) = resolve(&project, options, reporter)?;
    let (component_path, manifest_path) = output_paths(resolved.unit(), options);
    // What the manifest will say about the host is checked before anything is built.
    let dirs = manifest_dirs(&resolved.unit().project, &manifest_path, &component_path)?;
    let shims = manifest_shims(&resolved.unit().project, &manifest_path)?;
    let lock = lock_output(resolved.unit(), &manifest_path, reporter)?;

    let built = resolved.build(reporter)?;
    let unit = resolved.unit();
    let project = &unit.project;
    // A dev build skips wasm-opt: the edit-to-response time matters more than size.
    let level = if options.build.dev { None } else { built.optimize };
    let (component, names, reused) = componentize(built.artifact, unit, level, reporter)?;
    let digest = crate::fs::sha256_hex(&component);
    let (sizes, interfaces, contributors) =
        measure(&component, &digest, names.as_ref(), unit, &manifest_path, reporter)?;
    let world = resolve_world(project.config.world, &interfaces)?;
    component::check_world(world, &interfaces, &project.config.shims.enabled())?;
    let budget = project.budget(language.default_budget());
    let breaches = size::check_budget(sizes, budget);

    let mut toolchain = built.toolchain;
    toolchain.insert("warp".into(), WARP_VERSION.into());
    if level.is_some() {
        toolchain.insert("wasm-opt".into(), format!("binaryen {}", optimize::BINARYEN_VERSION));
    }
    toolchain.insert("wit-component".into(), WIT_COMPONENT_VERSION.into());
    let manifest = Manifest {
        schema: SCHEMA,
        name: unit.name.clone(),
        component: ComponentInfo {
            path: component_path.file_name().expect("component path names a file").to_string_lossy().into_owned(),
            sha256: digest,
            sizes,
            world,
            language: language.lang(),
            exports: interfaces.exports,
            imports: interfaces.imports,
        },
        toolchain,
        budget,
        shims,
        env: project.config.env.clone(),
        limits: project.config.limits.clone(),
        http: http_settings(project, world, language),
        dirs,
        contributors,
    };

    reporter.phase("Writing");
    crate::fs::write_atomic(&component_path, &component)?;
    crate::fs::write_atomic(&manifest_path, manifest.to_json().as_bytes())?;
    drop(lock);
    let mut config_files = vec![project_config, project.root.join(crate::project::CONFIG_FILE)];
    config_files.dedup();
    Ok(Packed {
        manifest,
        component_path,
        manifest_path,
        breaches,
        reused,
        sources: built.sources,
        config_files,
        settings_root: project.root.clone(),
        out_dir: unit.out_dir.clone(),
    })
}

/// The language (`--lang`, `warp.toml` or the files) and its unit; a member
/// whose own warp.toml names another language is re-resolved by that one.
/// A `--toolchain` the language does not have is refused here.
fn resolve(
    project: &Project,
    options: &PackOptions,
    reporter: &dyn Reporter,
) -> Result<(&'static dyn lang::Language, Box<dyn lang::Resolved>)> {
    let mut language = lang::for_project(project, options.lang)?;
    let mut resolved = language.resolve(project, &options.build, reporter)?;
    if options.lang.is_none()
        && let Some(member_lang) = resolved.unit().project.config.lang
        && member_lang != language.lang()
    {
        let member = resolved.unit().project.clone();
        language = lang::get(member_lang)?;
        resolved = language.resolve(&member, &options.build, reporter)?;
    }
    if let Some(toolchain) = &options.build.toolchain
        && !language.compilers().contains(&toolchain.as_str())
    {
        let help = match language.compilers() {
            [] => format!("{} has one compiler; leave `--toolchain` out", language.lang().display_name()),
            names => format!("{} compilers: {}", language.lang().display_name(), names.join(", ")),
        };
        return Err(Diagnostic::env(format!(
            "`--toolchain {toolchain}` is not a compiler for {}",
            language.lang().display_name()
        ))
        .help(help)
        .into());
    }
    Ok((language, resolved))
}

/// Where the component goes (`-o`, else the unit's output directory, or
/// its `dev/` for `warp dev`) and its manifest beside it.
fn output_paths(unit: &lang::Unit, options: &PackOptions) -> (PathBuf, PathBuf) {
    let file = format!("{}.wasm", unit.name);
    let component = match &options.out {
        Some(out) => out.clone(),
        None if options.build.dev => unit.out_dir.join(DEV_DIR).join(file),
        None => unit.out_dir.join(file),
    };
    let manifest = manifest::path_for(&component);
    (component, manifest)
}

/// One pack at a time per output directory, from build to the last write:
/// a component and its manifest are always from the same pack. Holding the
/// lock, the temporary files a killed pack left are removed.
fn lock_output(unit: &lang::Unit, manifest_path: &Path, reporter: &dyn Reporter) -> Result<crate::fs::DirLock> {
    let out_dir = manifest_dir(manifest_path)?;
    let lock = crate::fs::lock_dir(&out_dir, |lock| {
        reporter.blocked(&format!("the lock on `{}` (another `warp pack` is writing there)", lock.display()))
    })?;
    crate::fs::remove_stale_temp_files(&out_dir, lock.acquired);
    // The reuse cache is covered by this lock only when it is beside the output (no `-o` elsewhere).
    if unit.out_dir.canonicalize().is_ok_and(|dir| dir == out_dir) {
        crate::fs::remove_stale_temp_files(&out_dir.join(".cache"), lock.acquired);
    }
    Ok(lock)
}

/// A core module optimized at `level`, stripped and componentized (or the
/// same from the reuse cache), with its function names from before the
/// strip; a component the language built is taken as it is.
fn componentize(
    artifact: Artifact,
    unit: &lang::Unit,
    level: Option<optimize::Level>,
    reporter: &dyn Reporter,
) -> Result<(Vec<u8>, Option<size::FunctionNames>, bool)> {
    let core = match artifact {
        Artifact::CoreModule(core) => core,
        Artifact::Component(component) => return Ok((component, None, false)),
    };
    let cache = ComponentCache::new(&unit.out_dir, &core, level);
    if let Some((component, names)) = cache.load() {
        return Ok((component, Some(names), true));
    }
    let optimized = match level {
        Some(level) => {
            reporter.phase("Optimizing");
            optimize::optimize(&core, level).context("failed to optimize the core module")?
        }
        None => core,
    };
    let names = size::function_names(&optimized)?;
    let stripped = optimize::strip_custom_sections(&optimized, optimize::is_needed_section)?;
    reporter.phase("Componentizing");
    let component = component::componentize(&stripped)
        .map_err(|e| Diagnostic::check(format!("`{}` cannot become a component: {e:#}", unit.name)))?;
    cache.store(&component, &names);
    Ok((component, Some(names), false))
}

/// The component validated, its interfaces and sizes and its largest
/// items, or what the manifest beside it already says of the same bytes.
fn measure(
    component: &[u8],
    digest: &str,
    names: Option<&size::FunctionNames>,
    unit: &lang::Unit,
    manifest_path: &Path,
    reporter: &dyn Reporter,
) -> Result<(Sizes, Interfaces, Vec<size::Contributor>)> {
    if let Some(measured) = measured_before(manifest_path, digest) {
        return Ok(measured);
    }
    reporter.phase("Validating");
    component::validate(component)
        .map_err(|e| Diagnostic::check(format!("the component for `{}` is not valid: {e}", unit.name)))?;
    let interfaces = component::interfaces(component)?;
    reporter.phase("Measuring");
    let mut contributors = size::contributors(component, names)?;
    contributors.truncate(size::MANIFEST_CONTRIBUTORS);
    Ok((Sizes::of(component), interfaces, contributors))
}

/// Rewrites `packed`'s manifest with the run-time settings `warp.toml` now
/// has (`env`, `shims`, `limits`, `http`, `dirs`, `budget`: see
/// [`crate::project::RUN_TIME_KEYS`]), keeping its component: what `warp
/// dev` does when only those changed. They are checked as `pack` checks
/// them, the shims against what the component imports.
pub fn refresh_settings(packed: &Packed, reporter: &dyn Reporter) -> Result<Packed> {
    let project = Project::open(&packed.settings_root)?;
    let mut manifest = packed.manifest.clone();
    let language = lang::get(manifest.component.language)?;
    let dirs = manifest_dirs(&project, &packed.manifest_path, &packed.component_path)?;
    let shims = manifest_shims(&project, &packed.manifest_path)?;
    let interfaces =
        Interfaces { imports: manifest.component.imports.clone(), exports: manifest.component.exports.clone() };
    component::check_world(manifest.component.world, &interfaces, &project.config.shims.enabled())?;
    manifest.budget = project.budget(language.default_budget());
    manifest.shims = shims;
    manifest.env = project.config.env.clone();
    manifest.limits = project.config.limits.clone();
    manifest.http = http_settings(&project, manifest.component.world, language);
    manifest.dirs = dirs;
    let out_dir = manifest_dir(&packed.manifest_path)?;
    let lock = crate::fs::lock_dir(&out_dir, |lock| {
        reporter.blocked(&format!("the lock on `{}` (another `warp pack` is writing there)", lock.display()))
    })?;
    crate::fs::write_atomic(&packed.manifest_path, manifest.to_json().as_bytes())?;
    drop(lock);
    Ok(Packed {
        breaches: size::check_budget(manifest.component.sizes, manifest.budget),
        manifest,
        component_path: packed.component_path.clone(),
        manifest_path: packed.manifest_path.clone(),
        reused: true,
        sources: packed.sources.clone(),
        config_files: packed.config_files.clone(),
        settings_root: packed.settings_root.clone(),
        out_dir: packed.out_dir.clone(),
    })
}

/// `warp.toml`'s `[http]` for an `http` component, with the language's
/// default `reuse` filled in.
fn http_settings(project: &Project, world: World, language: &dyn lang::Language) -> Option<crate::project::Http> {
    (world == World::Http).then(|| {
        let mut http = project.config.http.clone();
        http.reuse.get_or_insert(language.default_reuse());
        http
    })
}

fn resolve_world(declared: Option<World>, interfaces: &Interfaces) -> Result<World> {
    if let Some(world) = declared {
        return Ok(world);
    }
    component::detect_world(interfaces).ok_or_else(|| {
        Diagnostic::check(format!(
            "the component exports neither `wasi:http/incoming-handler` nor `wasi:cli/run` (it exports: {})",
            if interfaces.exports.is_empty() { "nothing".to_string() } else { interfaces.exports.join(", ") }
        ))
        .help("export an HTTP handler (`wasip2::http::proxy::export!`) or build a binary with `main`")
        .into()
    })
}

/// Optimized components keyed by the digest of the core module they came
/// from, so an unchanged build repacks without running wasm-opt again.
/// Each rebuild adds an entry; the oldest go beyond [`REUSE_CACHE_BYTES`].
struct ComponentCache {
    component: PathBuf,
    names: PathBuf,
}

impl ComponentCache {
    fn new(out_dir: &Path, core: &[u8], level: Option<optimize::Level>) -> Self {
        let mut keyed = Vec::with_capacity(core.len() + 64);
        keyed.extend_from_slice(core);
        keyed.extend_from_slice(format!("{level:?}").as_bytes());
        keyed.extend_from_slice(WARP_VERSION.as_bytes());
        keyed.extend_from_slice(optimize::BINARYEN_VERSION.as_bytes());
        keyed.extend_from_slice(PIPELINE_REVISION.as_bytes());
        let key = crate::fs::sha256_hex(&keyed);
        let dir = out_dir.join(".cache");
        ComponentCache { component: dir.join(format!("{key}.wasm")), names: dir.join(format!("{key}.names.json")) }
    }

    fn load(&self) -> Option<(Vec<u8>, FunctionNames)> {
        let component = std::fs::read(&self.component).ok()?;
        let names: BTreeMap<u32, String> = serde_json::from_slice(&std::fs::read(&self.names).ok()?).ok()?;
        Some((component, names))
    }

    /// Best effort: a cache that cannot be written only costs time.
    fn store(&self, component: &[u8], names: &FunctionNames) {
        let names = serde_json::to_vec(names).expect("names serialize");
        let stored = crate::fs::write_atomic(&self.names, &names)
            .and_then(|()| crate::fs::write_atomic(&self.component, component));
        if stored.is_ok()
            && let Some(dir) = self.component.parent()
        {
            crate::fs::evict_oldest(dir, REUSE_CACHE_BYTES, &[&self.component, &self.names]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::relative_path;
    use std::path::Path;

    #[test]
    fn relative_paths_climb_out_of_the_manifest_directory() {
        let rel = |p: &str, b: &str| relative_path(Path::new(p), Path::new(b)).to_string_lossy().into_owned();
        assert_eq!(rel("/p/data", "/p/target/warp"), "../../data");
        assert_eq!(rel("/p/target/warp/x", "/p/target/warp"), "x");
        assert_eq!(rel("/p", "/p"), ".");
        assert_eq!(rel("/elsewhere/d", "/p/t"), "../../elsewhere/d");
    }
}
