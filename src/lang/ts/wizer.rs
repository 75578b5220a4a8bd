//! `warp __wizer ARGS`: the Wizer pre-initializer ComponentizeJS runs
//! (through its `wizerBin` option), in-process on warp's Wasmtime, and
//! deterministic.
//!
//! ComponentizeJS evaluates the engine's start-up (and warp's prelude)
//! under Wizer and keeps the resulting memory as the component's
//! snapshot. Its own Wizer gives the guest real random bytes and clocks,
//! and the path of a randomly named work directory, all of which end up in
//! the snapshot (ComponentizeJS #321). This one gives the same guest a
//! seeded random source, a clock that starts at zero and advances one
//! microsecond per reading, and fixed guest paths for the directories
//! ComponentizeJS preopens (the host paths are rewritten in the engine's
//! arguments too), so the same bundle gives the same component. The
//! instrumented engine's compiled code is kept in warp's compiled-code
//! cache: it depends on the world, not on the app, so a repack after an
//! edit does not compile the engine again.
//!
//! The command line is the subset of Wizer's that ComponentizeJS 0.23
//! passes: `--allow-wasi --init-func NAME --dir=HOST --mapdir=GUEST::HOST
//! --wasm-bulk-memory=true --inherit-env=true -o=OUT IN`; the engine's
//! arguments come on stdin.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::{Engine, Instance, Linker, Store, Val};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The hidden subcommand (`warp __wizer`).
pub const SUBCOMMAND: &str = "__wizer";

/// Where the guest sees the directory passed as `--dir` (ComponentizeJS's
/// randomly named sources directory).
const SOURCES_GUEST: &str = "/warp-sources";

/// What `/bin/sh` sets on its own (the `warp-wizer` script runs under it).
const SHELL_VARIABLES: &[&str] = &["PWD", "OLDPWD", "SHLVL", "_"];

/// What ComponentizeJS asked for.
#[derive(Debug, PartialEq)]
struct Args {
    init_func: String,
    /// `--dir=HOST`: seen at [`SOURCES_GUEST`].
    dir: Option<PathBuf>,
    /// `--mapdir=GUEST::HOST`.
    mapdirs: Vec<(String, PathBuf)>,
    output: PathBuf,
    input: PathBuf,
    /// `--warp-cache=DIR` (warp's own, before ComponentizeJS's arguments).
    warp_cache: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args> {
    let (mut init_func, mut dir, mut mapdirs, mut output, mut input) = (None, None, Vec::new(), None, None);
    let mut warp_cache = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with('-') => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value =
            || value.clone().or_else(|| args.next().cloned()).with_context(|| format!("`{flag}` needs a value"));
        match flag {
            "--allow-wasi" => {}
            "--wasm-bulk-memory" | "--inherit-env" => {
                let _ = value()?;
            }
            "--init-func" => init_func = Some(value()?),
            "--dir" if dir.is_none() => dir = Some(PathBuf::from(value()?)),
            "--mapdir" => {
                let spec = value()?;
                let (guest, host) =
                    spec.split_once("::").with_context(|| format!("`--mapdir={spec}` is not GUEST::HOST"))?;
                mapdirs.push((guest.to_string(), PathBuf::from(host)));
            }
            "-o" | "--output" => output = Some(PathBuf::from(value()?)),
            "--warp-cache" => warp_cache = Some(PathBuf::from(value()?)),
            other if !other.starts_with('-') && input.is_none() => input = Some(PathBuf::from(other)),
            other => bail!("warp's Wizer does not take `{other}`"),
        }
    }
    Ok(Args {
        init_func: init_func.unwrap_or_else(|| "wizer.initialize".into()),
        dir,
        mapdirs,
        output: output.context("no output (`-o`)")?,
        input: input.context("no input module")?,
        warp_cache,
    })
}

/// The engine's arguments with the host paths of the preopened
/// directories replaced by what the guest sees.
fn guest_arguments(stdin: &str, args: &Args) -> String {
    let mut text = stdin.to_string();
    if let Some(dir) = &args.dir {
        text = text.replace(&*dir.to_string_lossy(), SOURCES_GUEST);
    }
    for (guest, host) in &args.mapdirs {
        let host = format!("{}/", host.to_string_lossy().trim_end_matches('/'));
        let guest = format!("{}/", guest.trim_end_matches('/'));
        text = text.replace(&host, &guest);
    }
    text
}

/// Runs as `warp __wizer ARGS`; the exit code ComponentizeJS reads.
pub fn main(args: &[String]) -> std::process::ExitCode {
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:?}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let args = parse(args)?;
    // The guest's environment is what ComponentizeJS gave this process (the
    // engine's EXPORTn/IMPORTn descriptions), without what the script's
    // shell adds (PWD names the project's directory), in a fixed order.
    let mut guest_env: Vec<(String, String)> =
        std::env::vars().filter(|(key, _)| !SHELL_VARIABLES.contains(&key.as_str())).collect();
    guest_env.sort();
    let wasm = std::fs::read(&args.input).with_context(|| format!("failed to read `{}`", args.input.display()))?;
    let mut stdin = String::new();
    std::io::stdin().read_to_string(&mut stdin).context("failed to read the engine's arguments")?;

    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func(&args.init_func);
    let (context, instrumented) = wizer.instrument(&wasm).map_err(anyhow::Error::from)?;

    // Optimized code: the engine's start-up is heavy, and the compiled
    // engine is cached (it changes with the world, not with the app).
    // ComponentizeJS runs its Wizer with only the engine's variables set,
    // so warp's cache is named on the command line.
    if let Some(cache) = &args.warp_cache {
        // SAFETY: no other thread runs yet (the runtime starts below).
        unsafe { std::env::set_var("WARP_CACHE_DIR", cache) };
    }
    let engine = Engine::new(&wasmtime::Config::new()).map_err(anyhow::Error::from)?;
    let module = crate::engine::cache::module(&engine, &instrumented, &crate::fs::sha256_hex(&instrumented))?;

    let mut wasi = WasiCtxBuilder::new();
    wasi.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(guest_arguments(&stdin, &args)))
        .inherit_stdout()
        .inherit_stderr()
        .envs(&guest_env)
        .secure_random(StdRng::seed_from_u64(0))
        .insecure_random(StdRng::seed_from_u64(1))
        .insecure_random_seed(0)
        .wall_clock(Steady::default())
        .monotonic_clock(Steady::default());
    if let Some(dir) = &args.dir {
        wasi.preopened_dir(dir, SOURCES_GUEST, FsPerms::ReadOnly).map_err(anyhow::Error::from)?;
    }
    for (guest, host) in &args.mapdirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadOnly).map_err(anyhow::Error::from)?;
    }
    let mut store = Store::new(&engine, wasi.build_p1());
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).map_err(anyhow::Error::from)?;
    // The engine also imports the world's interfaces; none may be called
    // during pre-initialization (as under Wizer, a call traps).
    linker.define_unknown_imports_as_traps(&module).map_err(anyhow::Error::from)?;
    let instance = linker.instantiate(&mut store, &module).map_err(anyhow::Error::from)?;

    // As Wizer does: a reactor's `_initialize` first, then the init function.
    if let Some(initialize) = instance.get_func(&mut store, "_initialize")
        && args.init_func != "_initialize"
    {
        let initialize = initialize.typed::<(), ()>(&store).map_err(anyhow::Error::from)?;
        initialize.call(&mut store, ()).map_err(anyhow::Error::from).context("calling `_initialize`")?;
    }
    let init = instance
        .get_typed_func::<(), ()>(&mut store, &args.init_func)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("the module has no `{}` function of type [] -> []", args.init_func))?;
    init.call(&mut store, ())
        .map_err(anyhow::Error::from)
        .with_context(|| format!("the `{}` function trapped", args.init_func))?;

    let mut state = Snapshot { store: &mut store, instance };
    let runtime = tokio::runtime::Builder::new_current_thread().build().context("failed to start a runtime")?;
    let wizened = runtime.block_on(wizer.snapshot(&context, &mut state)).map_err(anyhow::Error::from)?;
    std::fs::write(&args.output, wizened).with_context(|| format!("failed to write `{}`", args.output.display()))
}

/// The instance's state as Wizer reads it.
struct Snapshot<'a> {
    store: &'a mut Store<WasiP1Ctx>,
    instance: Instance,
}

impl wasmtime_wizer::InstanceState for Snapshot<'_> {
    async fn global_get(&mut self, name: &str, _: wasmtime_wizer::ValType) -> wasmtime_wizer::SnapshotVal {
        use wasmtime_wizer::SnapshotVal;
        let global = self.instance.get_global(&mut *self.store, name).expect("Wizer names an exported global");
        match global.get(&mut *self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            other => panic!("a global Wizer cannot snapshot: {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self.instance.get_memory(&mut *self.store, name).expect("Wizer names an exported memory");
        contents(memory.data(&*self.store))
    }
}

/// A clock that starts at zero and advances a microsecond per reading:
/// time moves (loops that wait for it end), the same way every run.
#[derive(Default)]
struct Steady {
    ticks: std::sync::atomic::AtomicU64,
}

impl Steady {
    fn tick(&self) -> u64 {
        (self.ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1) * 1_000
    }
}

impl wasmtime_wasi::HostWallClock for Steady {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_micros(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.tick())
    }
}

impl wasmtime_wasi::HostMonotonicClock for Steady {
    fn resolution(&self) -> u64 {
        1_000
    }

    fn now(&self) -> u64 {
        self.tick()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn componentize_js_arguments_are_understood_and_paths_hidden() {
        let argv: Vec<String> = [
            "--allow-wasi",
            "--init-func",
            "componentize.wizer",
            "--dir=/tmp/componentize-abc/sources",
            "--mapdir=/::/work/app/target/warp/js",
            "--wasm-bulk-memory=true",
            "--inherit-env=true",
            "-o=/tmp/componentize-abc/out.wasm",
            "/tmp/componentize-abc/in.wasm",
        ]
        .map(String::from)
        .to_vec();
        let args = parse(&argv).unwrap();
        assert_eq!(args.init_func, "componentize.wizer");
        assert_eq!(args.output, PathBuf::from("/tmp/componentize-abc/out.wasm"));
        assert_eq!(args.input, PathBuf::from("/tmp/componentize-abc/in.wasm"));
        let stdin = "--initializer-script-path /tmp/componentize-abc/sources/initializer.js --strip-path-prefix /work/app/target/warp/js/ app.js";
        assert_eq!(
            guest_arguments(stdin, &args),
            "--initializer-script-path /warp-sources/initializer.js --strip-path-prefix / app.js"
        );
        assert!(parse(&["--weval".to_string()]).is_err());
    }
}
