//! C: clang (Debian's `clang-19`) for `wasm32-wasi` (WASI preview1) against
//! a wasi-libc sysroot, then the usual pipeline (the preview1 command
//! adapter turns it into a `wasi:cli/command` component).
//!
//! The sysroot is warp's own build of wasi-libc (`warp toolchain build
//! wasi-libc`), whose libc reaches the shims through weak hooks. The hooks
//! live in `libwarpgrid-shims.a`; for each shim `warp.toml` enables, the
//! link asks for its hook (`-u`), so the component imports exactly the
//! shims the deployment provides and libc falls through for the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::{Artifact, BuildOutput, BuildRequest, Language, Resolved, Unit};
use crate::error::{Diagnostic, ToolOutput};
use crate::lang::Check;
use crate::lang::{Kind, Template};
use crate::project::{Lang, Project, World};
use crate::report::Reporter;
use crate::shim::Shim;
use crate::size::{Budget, SMALL_COMPONENT_BUDGET};

pub const TARGET: &str = "wasm32-wasi";

/// The recipe whose build is the default sysroot.
const LIBC_RECIPE: &str = "wasi-libc";

/// The Debian packages a C build needs.
const DEBIAN_PACKAGES: &str = "clang-19 lld-19 libclang-rt-19-dev-wasm32";

/// The libc hook that pulls a shim's glue out of `libwarpgrid-shims.a`;
/// `None` for the shims libc does not reach.
fn hook(shim: Shim) -> Option<&'static str> {
    match shim {
        Shim::Dns => Some("__warpgrid_dns_resolve"),
        Shim::Filesystem => Some("__warpgrid_fs_read_virtual"),
        Shim::DatabaseProxy => Some("__warpgrid_db_connect"),
        Shim::Signals | Shim::Threading => None,
    }
}

const SHIMS_LIBRARY: &str = "libwarpgrid-shims.a";

/// The C path: clang 19 and warp's wasi-libc.
pub struct C;

pub static TEMPLATES: [Template; 1] = [Template { dir: "c-cli", kind: Kind::Cli, placeholder: "c-cli", sdk: None }];

impl Language for C {
    fn lang(&self) -> Lang {
        Lang::C
    }

    fn detect(&self, dir: &Path) -> bool {
        dir.join("src/main.c").is_file() || dir.join("main.c").is_file()
    }

    fn default_budget(&self) -> Budget {
        SMALL_COMPONENT_BUDGET
    }

    fn checks(&self) -> Vec<Check> {
        let libc = crate::fork::build::finished_output(LIBC_RECIPE)
            .ok()
            .flatten()
            .map(|dir| format!("built ({})", build_id(&dir)));
        vec![
            Check::new(
                Lang::C,
                "clang-19",
                find_clang().ok().map(|c| c.version),
                &format!("apt-get install {DEBIAN_PACKAGES}"),
            ),
            Check::new(Lang::C, "warp's wasi-libc", libc, "warp toolchain install c"),
        ]
    }

    fn toolchain(&self) -> &'static str {
        "c"
    }

    /// Builds warp's wasi-libc (from the recipe built into warp, or a
    /// checkout's): clang must already be there, from Debian.
    fn install(&self, reporter: &dyn Reporter) -> Result<()> {
        reporter.phase("Building");
        reporter.detail(&format!("warp toolchain build {LIBC_RECIPE}"));
        let fork = crate::fork::recipe::load(&std::env::current_dir()?, LIBC_RECIPE)?;
        crate::fork::build::build(&fork, None, false)?;
        Ok(())
    }

    fn templates(&self) -> &'static [Template] {
        &TEMPLATES
    }

    fn resolve(
        &self,
        project: &Project,
        _request: &BuildRequest,
        reporter: &dyn Reporter,
    ) -> Result<Box<dyn Resolved>> {
        if project.config.world == Some(World::Http) {
            return Err(Diagnostic::check(format!(
                "`{}`: C projects build `cli` components (wasi:cli/command); `world = \"http\"` is not supported for C",
                project.root.join(crate::project::CONFIG_FILE).display()
            ))
            .help("set `world = \"cli\"`, or write the HTTP service in Rust, Go or TypeScript")
            .into());
        }
        reporter.phase("Resolving");
        let root = project.root.canonicalize().unwrap_or_else(|_| project.root.clone());
        let unit = Unit {
            name: project_name(project),
            package_root: project.root.clone(),
            out_dir: root.join("target").join("warp"),
            project: project.clone(),
        };
        Ok(Box::new(CUnit { sources: sources(project)?, root, unit }))
    }
}

/// A C project: its sources, resolved.
struct CUnit {
    unit: Unit,
    /// Relative to the project.
    sources: Vec<PathBuf>,
    /// The project directory, canonical.
    root: PathBuf,
}

impl Resolved for CUnit {
    fn unit(&self) -> &Unit {
        &self.unit
    }

    fn build(&self, reporter: &dyn Reporter) -> Result<BuildOutput> {
        let project = &self.unit.project;
        let name = &self.unit.name;
        let clang = find_clang()?;
        let sysroot = sysroot(project)?;
        let hooks = hooks(project, &sysroot)?;

        let work = self.unit.out_dir.join("c");
        let module_path = work.join(format!("{name}.core.wasm"));
        let objects_dir = work.join("obj");
        std::fs::create_dir_all(&objects_dir)
            .with_context(|| format!("failed to create `{}`", objects_dir.display()))?;

        reporter.phase("Compiling");
        // One clang per source, each writing its dependency file (`-MD`):
        // what the build read is what `warp dev` watches.
        let mut objects = Vec::new();
        let mut read = Vec::new();
        for source in &self.sources {
            let stem = source.to_string_lossy().replace(['/', '\\'], "__");
            let (object, deps) = (objects_dir.join(format!("{stem}.o")), objects_dir.join(format!("{stem}.d")));
            let mut command = self.clang(&clang, &sysroot);
            command.args(&project.config.c.cflags);
            if project.root.join("include").is_dir() {
                command.arg("-Iinclude");
            }
            command.arg("-c").arg(source).arg("-o").arg(&object).arg("-MD").arg("-MF").arg(&deps);
            run_clang(command, &clang, name, reporter)?;
            read.extend(
                std::fs::read_to_string(&deps).map(|text| crate::lang::parse_dep_info(&text)).unwrap_or_default(),
            );
            objects.push(object);
        }

        let mut command = self.clang(&clang, &sysroot);
        command.arg("-Wl,--gc-sections").args(&objects).arg("-o").arg(&module_path);
        for hook in &hooks {
            command.arg(format!("-Wl,-u,{hook}"));
        }
        if !hooks.is_empty() {
            // The program exports `cabi_realloc` for the shims' results; a
            // command's exports would be wrapped in constructor/destructor
            // calls, so it links as a reactor with the library's `_start`
            // (see command.c in the patch series).
            command.args(["-mexec-model=reactor", "-Wl,-u,__warpgrid_start", "-lwarpgrid-shims"]);
        }
        run_clang(command, &clang, name, reporter)?;
        let mut module =
            std::fs::read(&module_path).with_context(|| format!("failed to read `{}`", module_path.display()))?;
        if crate::component::imports_shims(&module)? {
            crate::component::embed_shim_types(&mut module)?;
        }

        let mut toolchain = BTreeMap::new();
        toolchain.insert("clang".into(), clang.version);
        toolchain.insert("sysroot".into(), sysroot.description);
        read.push(self.root.join(crate::project::CONFIG_FILE));
        let read: Vec<PathBuf> = read.into_iter().filter(|f| f.exists()).collect();
        let sources = crate::lang::normalize_sources(read, &self.root, &[sysroot.dir.clone(), PathBuf::from("/usr")]);
        Ok(BuildOutput {
            artifact: Artifact::CoreModule(module),
            toolchain,
            sources,
            optimize: Some(crate::optimize::Level::Smallest),
        })
    }
}

impl CUnit {
    /// clang for `wasm32-wasi` against `sysroot`, in the project, with the
    /// flags every step shares.
    fn clang(&self, clang: &Clang, sysroot: &Sysroot) -> Command {
        let mut command = Command::new(&clang.program);
        command
            .current_dir(&self.unit.project.root)
            .arg(format!("--target={TARGET}"))
            .arg(format!("--sysroot={}", sysroot.dir.display()))
            .arg("-Oz")
            .arg(format!("-ffile-prefix-map={}=.", self.root.display()));
        command
    }
}

/// Runs one clang step; its diagnostics become the error's tool output.
fn run_clang(mut command: Command, clang: &Clang, name: &str, reporter: &dyn Reporter) -> Result<()> {
    let output = command.output().map_err(|e| {
        Diagnostic::env(format!("failed to run `{}`: {e}", clang.program.display()))
            .help(format!("on Debian: `apt-get install {DEBIAN_PACKAGES}`"))
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for line in stderr.lines() {
        reporter.detail(line);
    }
    if !output.status.success() {
        return Err(anyhow::Error::new(ToolOutput { text: stderr })
            .context(Diagnostic::check(format!("could not compile `{name}` for `{TARGET}`"))));
    }
    Ok(())
}

/// `[c] name`, else the directory's name.
fn project_name(project: &Project) -> String {
    if let Some(name) = &project.config.c.name {
        return name.clone();
    }
    let dir = project.root.canonicalize().unwrap_or_else(|_| project.root.clone());
    dir.file_name().map_or_else(|| "main".to_string(), |n| n.to_string_lossy().into_owned())
}

/// `[c] sources` (files, or directories searched for `*.c`), else `src/`,
/// else the `*.c` files beside `warp.toml`. Relative to the project, sorted.
fn sources(project: &Project) -> Result<Vec<PathBuf>> {
    let listed: Vec<String> = if project.config.c.sources.is_empty() {
        vec![if project.root.join("src").is_dir() { "src".into() } else { ".".into() }]
    } else {
        project.config.c.sources.clone()
    };
    let mut found = Vec::new();
    for entry in &listed {
        let path = project.root.join(entry);
        if path.is_file() {
            found.push(PathBuf::from(entry));
        } else if path.is_dir() {
            collect_c_files(&project.root, &path, entry != ".", &mut found)?;
        } else {
            return Err(Diagnostic::check(format!(
                "`{}` does not exist (warp.toml field `c.sources`)",
                path.display()
            ))
            .into());
        }
    }
    found.sort();
    found.dedup();
    if found.is_empty() {
        return Err(Diagnostic::check(format!("no `.c` files in `{}`", project.root.display()))
            .help("put the sources in `src/`, or list them in warp.toml: `[c] sources = [\"main.c\"]`")
            .into());
    }
    Ok(found)
}

fn collect_c_files(root: &Path, dir: &Path, recurse: bool, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if recurse {
                collect_c_files(root, &path, true, found)?;
            }
        } else if path.extension().is_some_and(|ext| ext == "c") {
            found.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

struct Clang {
    program: PathBuf,
    version: String,
}

/// `$WARP_CC`, else `clang-19`, else a `clang` of version 19 or newer.
fn find_clang() -> Result<Clang> {
    let candidates: Vec<String> = match std::env::var("WARP_CC") {
        Ok(cc) => vec![cc],
        Err(_) => vec!["clang-19".into(), "clang".into()],
    };
    for candidate in &candidates {
        let Some(program) = crate::fs::find_program(candidate) else { continue };
        let Ok(output) = Command::new(&program).arg("--version").output() else { continue };
        let text = String::from_utf8_lossy(&output.stdout);
        let first = text.lines().next().unwrap_or_default().trim().to_string();
        let major = first
            .split("version ")
            .nth(1)
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u32>().ok())
            .unwrap_or(0);
        if major >= 19 {
            return Ok(Clang { program, version: first });
        }
    }
    Err(Diagnostic::env("no clang 19 or newer to build C for WebAssembly (looked for `clang-19`, `clang`)")
        .help(format!("on Debian: `apt-get install {DEBIAN_PACKAGES}` (or set WARP_CC)"))
        .into())
}

struct Sysroot {
    dir: PathBuf,
    /// Recorded in the run manifest.
    description: String,
}

/// `[c] sysroot`, else `$WASI_SYSROOT`, else warp's wasi-libc build.
fn sysroot(project: &Project) -> Result<Sysroot> {
    let explicit = match (&project.config.c.sysroot, std::env::var_os("WASI_SYSROOT")) {
        (Some(dir), _) => Some((project.root.join(dir), "warp.toml field `c.sysroot`")),
        (None, Some(dir)) => Some((PathBuf::from(dir), "WASI_SYSROOT")),
        (None, None) => None,
    };
    if let Some((dir, from)) = explicit {
        if !dir.join("lib").join(TARGET).join("libc.a").is_file() {
            return Err(Diagnostic::env(format!(
                "`{}` is not a wasi-libc sysroot: no `lib/{TARGET}/libc.a` (from {from})",
                dir.display()
            ))
            .into());
        }
        let description = format!("{}", dir.display());
        return Ok(Sysroot { dir, description });
    }
    let built = crate::fork::build::finished_output(LIBC_RECIPE)?.ok_or_else(|| {
        Diagnostic::env("C projects link against warp's wasi-libc, which is not built yet")
            .help(format!(
                "run `warp toolchain build {LIBC_RECIPE}` (it needs `{DEBIAN_PACKAGES}`), or point WASI_SYSROOT at a sysroot"
            ))
    })?;
    Ok(Sysroot { description: format!("warp {LIBC_RECIPE} build {}", build_id(&built)), dir: built.join("sysroot") })
}

/// The first 12 digits of a finished toolchain build's stamp.
fn build_id(built: &Path) -> String {
    let stamp = std::fs::read_to_string(built.join(".warp-build")).unwrap_or_default();
    stamp.trim().chars().take(12).collect()
}

/// The hooks to link for the enabled shims that libc reaches.
fn hooks(project: &Project, sysroot: &Sysroot) -> Result<Vec<&'static str>> {
    let enabled = project.config.shims.enabled();
    let wanted: Vec<&'static str> = enabled.iter().filter_map(|&shim| hook(shim)).collect();
    if wanted.is_empty() {
        return Ok(wanted);
    }
    if !sysroot.dir.join("lib").join(TARGET).join(SHIMS_LIBRARY).is_file() {
        return Err(Diagnostic::check(format!(
            "warp.toml enables shims ({}) but the sysroot `{}` has no `{SHIMS_LIBRARY}`: its libc cannot reach them",
            Shim::list(&enabled),
            sysroot.dir.display()
        ))
        .help(format!(
            "use warp's wasi-libc (`warp toolchain build {LIBC_RECIPE}`, and unset `c.sysroot`/WASI_SYSROOT), or disable the shims"
        ))
        .into());
    }
    Ok(wanted)
}
