//! The patched wasi-libc, end to end: clone the real upstream snapshot from
//! a mirror (built from Debian's source package by `cargo xtask mirror`),
//! apply `patches/wasi-libc/`, build the sysroot with clang 19, `warp pack
//! --lang c` a C program that uses plain libc calls, and `warp run` it. The
//! same program against the unpatched sysroot still links and runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::servers::{Certs, Server};
use crate::support::*;

tests! {
    a_c_program_reaches_the_shims_through_the_patched_libc: [LibcMirror, Clang],
    missing_clang_names_the_debian_packages: [],
    a_c_program_talks_to_redis_through_the_database_proxy: [LibcMirror, Clang, Openssl, Redis],
    a_c_program_logs_in_to_postgres_through_the_pooling_proxy: [LibcMirror, Clang, Openssl, Postgres],
    a_c_program_logs_in_to_mariadb_through_the_pooling_proxy: [LibcMirror, Clang, Openssl, MariaDb],
}

/// `$WARP_TEST_MIRRORS`, for the tests that declare `Need::LibcMirror`.
fn mirrors() -> PathBuf {
    libc_mirrors().expect("the test declares Need::LibcMirror")
}

/// One wasi-libc build at a time (each test builds into its own cache).
static BUILD: OnceLock<std::sync::Mutex<()>> = OnceLock::new();

/// A `WARP_CACHE_DIR` with the patched sysroot built, shared by the tests
/// that pack C (the full cycle from a fresh cache is
/// `a_c_program_reaches_the_shims_…`'s). Needs `Need::LibcMirror`.
pub(crate) fn shared_cache() -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("libc-database-cache");
    let _lock = BUILD.get_or_init(Default::default).lock().unwrap();
    run(warp(&repo())
        .args(["toolchain", "build", "wasi-libc"])
        .env("WARP_CACHE_DIR", &cache)
        .env("WARP_MIRROR_DIR", mirrors()))
    .expect_code(0);
    cache
}

/// The program's report, from `warp run`.
fn run_program(manifest: &Path, cache: &Path) -> String {
    let run = run(warp(manifest.parent().unwrap()).args(["run"]).arg(manifest).env("WARP_CACHE_DIR", cache));
    run.expect_code(0);
    run.stdout
}

fn a_c_program_reaches_the_shims_through_the_patched_libc() {
    let mirrors = mirrors();
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    let with_cache = |cmd: &mut Command| {
        cmd.env("WARP_CACHE_DIR", &cache).env("WARP_MIRROR_DIR", &mirrors);
    };

    // Clone from the mirror, apply the series, build the sysroot.
    let _lock = BUILD.get_or_init(Default::default).lock().unwrap();
    let mut build = warp(&repo());
    build.args(["toolchain", "build", "wasi-libc", "--json"]);
    with_cache(&mut build);
    let built = run(&mut build);
    built.expect_code(0);
    let built = built.json();
    assert_eq!(built["fresh"], false);
    assert_eq!(
        built["patches"].as_u64().unwrap() as usize,
        std::fs::read_dir(repo().join("patches/wasi-libc"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "patch"))
            .count()
    );
    let sysroot = Path::new(built["out"].as_str().unwrap()).join("sysroot");
    assert!(sysroot.join("lib/wasm32-wasi/libwarpgrid-shims.a").is_file());
    assert!(sysroot.join("include/netdb.h").is_file());

    // Nothing changed: nothing runs.
    let mut again = warp(&repo());
    again.args(["toolchain", "build", "wasi-libc", "--json"]);
    with_cache(&mut again);
    assert_eq!(run(&mut again).expect_code(0).json()["fresh"], true);

    // The program, with the dns and filesystem shims enabled.
    let (_project_temp, project) = fixture("c-shims");
    let mut pack = warp(&project);
    pack.args(["pack", "--json"]);
    with_cache(&mut pack);
    let packed = run(&mut pack);
    packed.expect_code(0);
    // What clang read (its -MD files): the program, not the sysroot's headers.
    let sources: Vec<String> =
        packed.json()["sources"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    let project_dir = project.canonicalize().unwrap();
    assert!(sources.contains(&project_dir.join("src/main.c").display().to_string()), "{sources:?}");
    assert!(sources.iter().all(|s| s.starts_with(project_dir.to_str().unwrap())), "{sources:?}");
    let manifest = PathBuf::from(packed.json()["manifest"].as_str().unwrap());
    let imports = std::fs::read_to_string(&manifest).unwrap();
    assert!(imports.contains("warpgrid:shim/dns@0.1.0") && imports.contains("warpgrid:shim/filesystem@0.1.0"));
    let out = run_program(&manifest, &cache);
    // The registry's addresses, in order, from getaddrinfo and gethostbyname.
    assert!(
        out.contains("getaddrinfo db.production.warp.local: 10.0.0.7:5432 10.0.0.8:5432\n"),
        "getaddrinfo did not ask the dns shim:\n{out}"
    );
    assert!(out.contains("gethostbyname db.production.warp.local: "), "{out}");
    // /etc/resolv.conf as the filesystem shim generates it.
    assert!(out.contains("/etc/resolv.conf: "), "{out}");
    assert!(out.contains("  search production.warp.local"), "resolv.conf is not the shim's:\n{out}");
    // TZ = Europe/Berlin from the manifest: 12:00 UTC is 14:00 CEST.
    assert!(out.contains("localtime: 2024-07-01 14:00:00 CEST +0200\n"), "localtime ignored TZ:\n{out}");

    // The same sources without the shims: libc falls through (no import,
    // /etc/hosts has no such name, no zoneinfo to read: UTC).
    std::fs::write(project.join("warp.toml"), "lang = \"c\"\nworld = \"cli\"\n[env]\nTZ = \"Europe/Berlin\"\n")
        .unwrap();
    let mut pack = warp(&project);
    pack.args(["pack", "--json"]);
    with_cache(&mut pack);
    let manifest = PathBuf::from(run(&mut pack).expect_code(0).json()["manifest"].as_str().unwrap().to_string());
    assert!(!std::fs::read_to_string(&manifest).unwrap().contains("warpgrid:shim"));
    let out = run_program(&manifest, &cache);
    assert!(out.contains("getaddrinfo db.production.warp.local: error: Name does not resolve\n"), "{out}");
    assert!(out.contains("/etc/resolv.conf: error: "), "{out}");
    assert!(out.contains("localtime: 2024-07-01 12:00:00 UTC +0000\n"), "{out}");

    // The unpatched upstream sysroot: the program still links and runs.
    let upstream = temp.path().join("upstream");
    let clone = Command::new("git")
        .args(["-c", "advice.detachedHead=false", "clone", "-q", "--branch", "9886d3d"])
        .arg(mirrors.join("wasi-libc"))
        .arg(&upstream)
        .status()
        .unwrap();
    assert!(clone.success());
    let unpatched = temp.path().join("unpatched");
    let make = Command::new("make")
        .current_dir(&upstream)
        .args(["-j2", "CC=clang-19", "AR=llvm-ar-19", "NM=llvm-nm-19", "THREAD_MODEL=single"])
        .arg(format!("SYSROOT={}", unpatched.display()))
        .arg(format!("OBJDIR={}", temp.path().join("unpatched-obj").display()))
        // `check-symbols` fails on any clang newer than 2022's; the
        // libraries are complete before it.
        .args(["startup_files", "libc"])
        .output()
        .unwrap();
    assert!(make.status.success(), "{}", String::from_utf8_lossy(&make.stderr));
    let mut pack = warp(&project);
    pack.args(["pack", "--json"]).env("WASI_SYSROOT", &unpatched);
    with_cache(&mut pack);
    let manifest = PathBuf::from(run(&mut pack).expect_code(0).json()["manifest"].as_str().unwrap().to_string());
    let out = run_program(&manifest, &cache);
    assert!(out.contains("getaddrinfo db.production.warp.local: not in this libc\n"), "{out}");
    assert!(out.contains("localtime: 2024-07-01 12:00:00 UTC +0000\n"), "{out}");
}

fn missing_clang_names_the_debian_packages() {
    let empty = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    run(warp(&repo())
        .args(["toolchain", "build", "wasi-libc"])
        .env("PATH", empty.path())
        .env("WARP_CACHE_DIR", cache.path()))
    .expect_code(2)
    .stderr_has("building `wasi-libc` needs `clang-19` (not on PATH)")
    .stderr_has("apt-get install clang-19 llvm-19 lld-19");
    assert!(!cache.path().join("toolchains").exists(), "nothing was cloned before the check");

    let (_temp, project) = fixture("c-shims");
    run(warp(&project).args(["pack"]).env("WARP_CC", "clang-0-missing").env("WARP_CACHE_DIR", cache.path()))
        .expect_code(2)
        .stderr_has("no clang 19 or newer")
        .stderr_has("apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32");
}

/// Packs fixture `name` with the database port `default_port` in its
/// warp.toml replaced by `port` (and, given a CA, the endpoint asking for
/// TLS with it), and runs it. The database tests share one build of the
/// patched sysroot, kept in cargo's test scratch directory (the full
/// cycle from a fresh cache is `a_c_program_reaches_the_shims_…`'s).
fn pack_and_run_database_client(name: &str, default_port: u16, port: u16, ca: Option<&Path>) -> Run {
    let cache = shared_cache();
    let cache = cache.as_path();
    let (_project_temp, project) = fixture(name);
    let mut config = std::fs::read_to_string(project.join("warp.toml")).unwrap();
    config = config.replace(&default_port.to_string(), &port.to_string());
    if let Some(ca) = ca {
        // The endpoint is the file's last table.
        std::fs::copy(ca, project.join("db-ca.pem")).unwrap();
        config.push_str("tls = true\nca = \"db-ca.pem\"\n");
    }
    std::fs::write(project.join("warp.toml"), config).unwrap();
    let packed = run(warp(&project).args(["pack", "--json"]).env("WARP_CACHE_DIR", cache));
    packed.expect_code(0);
    let manifest = PathBuf::from(packed.json()["manifest"].as_str().unwrap());
    assert!(std::fs::read_to_string(&manifest).unwrap().contains("warpgrid:shim/database-proxy@0.1.0"));
    run(warp(&project).arg("run").arg(&manifest).env("WARP_CACHE_DIR", cache))
}

fn a_c_program_talks_to_redis_through_the_database_proxy() {
    let temp = tempfile::tempdir().unwrap();
    let certs = Certs::new(temp.path());
    let server = Server::redis(temp.path(), &certs);
    // In plaintext, then on the port that only speaks TLS.
    for (port, ca) in [(server.port, None), (server.tls_port, Some(certs.ca.as_path()))] {
        let run = pack_and_run_database_client("c-redis", 6379, port, ca);
        run.expect_code(0);
        let out = &run.stdout;
        // The bytes went to the real server and back.
        assert!(out.contains("round 1 set +OK"), "{out}");
        assert!(out.contains("round 1 select +OK"), "{out}");
        // Back on database 0: the pooled connection was reset.
        assert!(out.contains("round 2 get $12  hello-from-c"), "{out}");
        assert!(out.contains("round 2 quit +OK"), "{out}");
        // The second connection is the first one, back from the pool.
        let id = |round: u32| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("round {round} client-id ")))
                .unwrap_or_else(|| panic!("no client id in round {round}:\n{out}"))
                .trim()
                .to_string()
        };
        assert!(id(1).starts_with(':'), "{out}");
        assert_eq!(id(1), id(2), "the proxy did not reuse the pooled connection:\n{out}");
        // A full pool.
        let exhausted = format!("connect cache.production.warp.local:{port}: Resource temporarily unavailable");
        assert!(out.contains(&exhausted), "{out}");
        assert!(!out.contains("let through"), "{out}");
        // An address the manifest does not list is refused, and logged.
        assert!(out.contains("connect 127.0.0.1:1: Connection refused"), "{out}");
        run.stderr_has("database connection to 127.0.0.1:1 refused: not listed in `shims.database`");
        assert_eq!(run.stderr.matches("refused").count(), 1, "one report per address:\n{}", run.stderr);
    }
    // A CA that did not sign the server's certificate: no connection, and
    // the log says why.
    let run = pack_and_run_database_client("c-redis", 6379, server.tls_port, Some(&certs.stranger));
    run.expect_code(1);
    run.stderr_has(&format!("database connection to cache.production.warp.local:{} failed", server.tls_port))
        .stderr_has("invalid peer certificate");
    assert!(!run.stdout.contains("client-id"), "{}", run.stdout);
}

fn a_c_program_logs_in_to_postgres_through_the_pooling_proxy() {
    let bin = postgres_bin().expect("the test declares Need::Postgres");
    let temp = tempfile::tempdir().unwrap();
    let certs = Certs::new(temp.path());
    let server = Server::postgres(&bin, temp.path(), &certs);
    for (ca, ssl) in [(None, "f"), (Some(certs.ca.as_path()), "t")] {
        let run = pack_and_run_database_client("c-postgres", 5432, server.port, ca);
        let out = &run.stdout;
        assert_eq!(run.code, 0, "stdout:\n{out}\nstderr:\n{}", run.stderr);
        // `round N <backend pid> <ssl> <application_name> <search_path>`.
        let session = |round: u32| -> Vec<String> {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("round {round} ")).filter(|rest| rest.split(' ').count() >= 4))
                .unwrap_or_else(|| panic!("no session line in round {round}:\n{out}"))
                .split(' ')
                .map(str::to_string)
                .collect()
        };
        let (one, two, three) = (session(1), session(2), session(3));
        assert!(one[0].parse::<u32>().is_ok(), "{out}");
        assert_eq!(&one[1..], [ssl, "c-probe", "\"$user\",", "public"], "{out}");
        // The same login again: the same backend, from the pool, reset.
        assert_eq!(one[0], two[0], "the proxy did not reuse the pooled session:\n{out}");
        assert_eq!(
            &two[1..],
            [ssl, "c-probe", "\"$user\",", "public"],
            "settings leaked into the pooled session:\n{out}"
        );
        assert!(out.contains("round 2 0\n"), "a prepared statement leaked into the pooled session:\n{out}");
        // Another login: another backend.
        assert_ne!(three[0], one[0], "{out}");
        assert_eq!(&three[1..3], [ssl, "c-other"], "{out}");
        assert!(!out.contains("error"), "{out}");
    }
}

fn a_c_program_logs_in_to_mariadb_through_the_pooling_proxy() {
    let temp = tempfile::tempdir().unwrap();
    let certs = Certs::new(temp.path());
    let server = Server::mariadb(temp.path(), &certs);
    for ca in [None, Some(certs.ca.as_path())] {
        let run = pack_and_run_database_client("c-mysql", 3306, server.port, ca);
        let out = &run.stdout;
        assert_eq!(run.code, 0, "stdout:\n{out}\nstderr:\n{}", run.stderr);
        // `round N <connection id> 42 <user> <database> <@leftover> tls:<version>`.
        let session = |round: u32| -> Vec<&str> {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("round {round} ")))
                .unwrap_or_else(|| panic!("no row in round {round}:\n{out}"))
                .split(' ')
                .collect()
        };
        let (one, two, three) = (session(1), session(2), session(3));
        for row in [&one, &two, &three] {
            let tls = row.last().unwrap();
            assert_eq!(ca.is_some(), tls.starts_with("tls:TLS"), "the server saw `{tls}`:\n{out}");
        }
        assert!(one[0].parse::<u32>().is_ok(), "{out}");
        assert_eq!(&one[1..5], ["42", "warp@%", "mysql", "NULL"], "{out}");
        // The same login again: the same connection, from the pool, reset.
        assert_eq!(one[0], two[0], "the proxy did not reuse the pooled connection:\n{out}");
        assert_eq!(
            &two[1..5],
            ["42", "warp@%", "mysql", "NULL"],
            "session state leaked into the pooled connection:\n{out}"
        );
        // Another user: logged in on a fresh connection.
        assert_ne!(three[0], one[0], "{out}");
        assert_eq!(&three[1..5], ["42", "other@%", "mysql", "NULL"], "{out}");
        assert!(!out.contains("error"), "{out}");
    }
}
