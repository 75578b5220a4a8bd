//! The integration tests' own harness (`harness = false`, libtest-mimic):
//! each module registers its tests with what they need from the machine
//! ([`tests!`]); a test whose need is missing is reported as ignored, with
//! what is missing and the command that provides it, and fails instead
//! under `CI=true`, where `cargo xtask ci` must have provided everything.
//! Filters, `--exact`, `--list`, `--include-ignored`, `--test-threads` and
//! the closing `test result:` line are libtest's.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Completion, Trial};

/// What a test needs from the machine beyond Rust, `git` and `make`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The `wasm32-wasip2` Rust target: every test that packs a Rust guest.
    WasmTarget,
    /// A wasmtime 48 CLI (`$WASMTIME`, else `wasmtime` on PATH): the
    /// reference `wasmtime serve` that `warp run` is compared with.
    Wasmtime,
    /// A git mirror of upstream wasi-libc in `$WARP_TEST_MIRRORS/wasi-libc`.
    LibcMirror,
    /// What `toolchains/wasi-libc.toml` requires to build the sysroot
    /// (clang, lld and llvm 19, compiler-rt for wasm32, make), which is
    /// also what `warp pack --lang c` compiles and links with.
    Clang,
    /// `openssl`, which makes the database tests' certificates.
    Openssl,
    /// `redis-server`.
    Redis,
    /// A Debian PostgreSQL server (`/usr/lib/postgresql/N/bin`).
    Postgres,
    /// `mariadbd` and `mariadb-install-db`.
    MariaDb,
    /// `npm`, which fetches ComponentizeJS from the registry.
    Npm,
    /// `node` and the JS toolchain warp installs (`warp toolchain install js`).
    Js,
    /// The `bun` of warp's JS toolchain (`warp toolchain install bun`), with `node`.
    Bun,
    /// A Go of the releases warp supports (its modules come from the Go
    /// module proxy).
    Go,
}

impl Need {
    /// `None` when the machine has it; else what is missing and the
    /// command that provides it.
    fn missing(self) -> Option<String> {
        let on_path = |program: &str| warp::fs::find_program(program).is_some();
        let apt = |what: &str, packages: &str| format!("{what}: run `apt-get install {packages}`");
        match self {
            Need::WasmTarget => (!warp::lang::rust::std_installed(Path::new("."), "wasm32-wasip2").unwrap_or(false))
                .then(|| "no `wasm32-wasip2` Rust target: run `rustup target add wasm32-wasip2`".to_string()),
            Need::Wasmtime => crate::support::wasmtime_cli().err().map(|why| {
                format!(
                    "{why}: run `cargo xtask ci` (it installs wasmtime-cli 48 and sets WASMTIME), \
                     or set WASMTIME to a wasmtime 48 CLI"
                )
            }),
            Need::LibcMirror => crate::support::libc_mirrors().is_none().then(|| {
                "no wasi-libc mirror in `$WARP_TEST_MIRRORS/wasi-libc`: run \
                 `cargo xtask mirror wasi-libc DIR/wasi-libc` and set WARP_TEST_MIRRORS=DIR"
                    .to_string()
            }),
            Need::Clang => {
                let (missing, packages) = libc_build_requirements_missing();
                (!missing.is_empty()).then(|| apt(&format!("no {}", missing.join(", ")), &packages.join(" ")))
            }
            Need::Openssl => (!on_path("openssl")).then(|| apt("no `openssl`", "openssl")),
            Need::Redis => (!on_path("redis-server")).then(|| apt("no `redis-server`", "redis-server")),
            Need::Postgres => crate::support::postgres_bin()
                .is_none()
                .then(|| apt("no PostgreSQL server in `/usr/lib/postgresql`", "postgresql")),
            Need::MariaDb => (!on_path("mariadbd") || !on_path("mariadb-install-db"))
                .then(|| apt("no `mariadbd` or `mariadb-install-db`", "mariadb-server")),
            Need::Npm => (!on_path("npm")).then(|| apt("no `npm`", "npm")),
            Need::Js => warp::lang::ts::toolchain_ready()
                .err()
                .map(|e| format!("{e}: run `warp toolchain install js` (`cargo xtask ci` does)")),
            Need::Bun => warp::lang::bun::program()
                .err()
                .map(|e| format!("{e}: run `warp toolchain install bun` (`cargo xtask ci` does)")),
            Need::Go => warp::lang::go::go_version().err().map(|e| format!("{e}: install Go from https://go.dev/dl")),
        }
    }
}

/// The tools and files `toolchains/wasi-libc.toml` requires that are
/// missing, and the Debian packages that provide them: the recipe is the
/// one list of what the C toolchain needs (`cargo xtask ci` installs from
/// it too).
fn libc_build_requirements_missing() -> (Vec<String>, Vec<String>) {
    let libc = warp::fork::recipe::load(&crate::support::repo(), "wasi-libc")
        .unwrap_or_else(|e| panic!("the wasi-libc recipe: {e:#}"));
    let (mut missing, mut packages) = (Vec::new(), Vec::new());
    for requirement in libc.recipe.build.map(|build| build.requires).unwrap_or_default() {
        let absent = match (&requirement.tool, &requirement.file) {
            (Some(tool), _) if warp::fs::find_program(tool).is_none() => format!("`{tool}`"),
            (None, Some(file)) if !Path::new(file).exists() => format!("`{file}`"),
            _ => continue,
        };
        missing.push(absent);
        packages.extend(requirement.debian.filter(|package| !packages.contains(package)));
    }
    (missing, packages)
}

/// One registered test: a function that panics to fail, and its needs.
pub struct Test {
    /// `module_path!()` where it was registered (`it::run`).
    pub module: &'static str,
    pub name: &'static str,
    pub run: fn(),
    pub needs: &'static [Need],
}

impl Test {
    /// The name filters match, as libtest would name it: `run::a_test`.
    fn full_name(&self) -> String {
        let module = self.module.split_once("::").map_or(self.module, |(_crate, module)| module);
        format!("{module}::{}", self.name)
    }
}

/// Registers a module's tests, each with what it needs (`[]` for nothing
/// beyond Rust), as `const TESTS` for `main.rs` to run:
///
/// ```ignore
/// tests! {
///     help_snapshot: [],
///     a_c_program_talks_to_redis: [LibcMirror, Clang, Openssl, Redis],
/// }
/// ```
///
/// A test function that is not listed is never used, which is a warning,
/// and an error under the `-D warnings` of `cargo xtask ci`'s clippy.
macro_rules! tests {
    ($($test:ident: [$($need:ident),* $(,)?]),* $(,)?) => {
        pub(crate) const TESTS: &[$crate::harness::Test] = &[$($crate::harness::Test {
            module: module_path!(),
            name: stringify!($test),
            run: $test,
            needs: &[$($crate::harness::Need::$need),*],
        }),*];
    };
}

/// Where guest builds keep their intermediate artifacts during this run
/// (`CARGO_BUILD_BUILD_DIR` of every `warp` the tests start): dependencies
/// such as wit-bindgen and wstd are compiled once per run, not once per
/// test. Final artifacts stay in each project's own `target/`.
pub fn guest_build_dir() -> &'static Path {
    GUEST_BUILD_DIR.get().expect("the harness sets the guest build dir before running tests").path()
}

static GUEST_BUILD_DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Runs `modules`' tests as libtest would, with the needs checked once.
pub fn main(modules: &[&'static [Test]]) -> ExitCode {
    let args = Arguments::from_args();
    let tests: Vec<&'static Test> = modules.iter().flat_map(|tests| tests.iter()).collect();
    let dir = tempfile::Builder::new()
        .prefix("guest-build-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("failed to make the guest build dir in CARGO_TARGET_TMPDIR");
    assert!(GUEST_BUILD_DIR.set(dir).is_ok());

    // Each need is checked once, and only when a test that will run has it.
    let selected = |test: &Test| !args.list && !args.is_filtered_out(&Trial::test(test.full_name(), || Ok(())));
    let mut missing: BTreeMap<Need, Option<String>> = BTreeMap::new();
    for test in tests.iter().filter(|test| selected(test)) {
        for &need in test.needs {
            missing.entry(need).or_insert_with(|| need.missing());
        }
    }
    let reasons = |test: &Test| -> Option<String> {
        let reasons: Vec<&str> = test.needs.iter().filter_map(|need| missing.get(need)?.as_deref()).collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    };

    let ci = under_ci();
    let lacking: Vec<(&str, usize)> = missing
        .iter()
        .filter_map(|(need, reason)| {
            let count = tests.iter().filter(|test| selected(test) && test.needs.contains(need)).count();
            Some((reason.as_deref()?, count))
        })
        .collect();
    if !lacking.is_empty() {
        let fate = if ci { "fail (CI=true)" } else { "are ignored (they fail under CI=true)" };
        eprintln!("\nTests that need what this machine lacks {fate}:");
        for (reason, count) in lacking {
            eprintln!("  {reason} ({count} {})", if count == 1 { "test" } else { "tests" });
        }
    }

    let trials = tests
        .iter()
        .map(|&test| {
            let missing = reasons(test);
            Trial::ignorable_test(test.full_name(), move || match missing {
                Some(reason) if ci => Err(format!("{reason} (CI=true: `cargo xtask ci` provides it)").into()),
                Some(reason) => Ok(Completion::ignored_with(reason)),
                None => {
                    (test.run)();
                    Ok(Completion::Completed)
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // A static is never dropped: remove the guest build dir here.
    let _ = std::fs::remove_dir_all(guest_build_dir());
    conclusion.exit_code()
}

tests! {
    every_test_is_registered: [],
    a_missing_need_is_ignored_with_its_reason_and_fails_under_ci: [],
}

/// A libtest `#[test]` compiles to nothing under this harness, so it
/// would never run; registered functions are checked by dead-code lints.
fn every_test_is_registered() {
    let dir = crate::support::repo().join("tests/it");
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        if entry.path().extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (number, line) in text.lines().enumerate() {
            assert!(
                !line.trim_start().starts_with("#[test]"),
                "{}:{}: `#[test]` does not run under this harness; list the function in the module's `tests!`",
                entry.path().display(),
                number + 1
            );
        }
    }
}

/// This test binary itself, on one test that needs wasmtime 48, with
/// `WASMTIME` pointing at nothing: ignored with the reason locally, failed
/// under `CI=true`.
fn a_missing_need_is_ignored_with_its_reason_and_fails_under_ci() {
    let exe = std::env::current_exe().unwrap();
    let name = "serve_compat::a_third_party_guest_behaves_as_under_wasmtime_serve";
    let run = |ci: &str| {
        let output = Command::new(&exe)
            .args(["--exact", name, "--test-threads", "1"])
            .env("WASMTIME", "/nonexistent/wasmtime")
            .env("CI", ci)
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let (ok, stdout) = run("false");
    assert!(ok, "{stdout}");
    let line = stdout.lines().find(|line| line.starts_with(&format!("test {name} ... "))).unwrap_or_default();
    assert!(line.contains("ignored (") && line.contains("no `/nonexistent/wasmtime`"), "{stdout}");
    assert!(line.contains("run `cargo xtask ci`"), "{stdout}");
    assert!(stdout.contains("test result: ok. 0 passed; 0 failed; 1 ignored;"), "{stdout}");
    let (ok, stdout) = run("true");
    assert!(!ok, "{stdout}");
    assert!(stdout.contains(&format!("test {name} ... FAILED")), "{stdout}");
    assert!(stdout.contains("no `/nonexistent/wasmtime`"), "{stdout}");
    assert!(stdout.contains("test result: FAILED. 0 passed; 1 failed; 0 ignored;"), "{stdout}");
}
