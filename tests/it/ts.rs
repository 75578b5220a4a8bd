//! `warp pack --lang ts`: ordinary hono and fetch-handler apps, bundled by
//! esbuild and componentized by ComponentizeJS (the JS toolchain warp
//! installs), served by `warp run` over real HTTP. Componentizing costs
//! seconds and the runner's first compile of the engine ~6 s, so the hono
//! fixture is packed once per test run and shared, with its compiled code.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{Served, request, run, warp};

tests! {
    hono_app_packs_unedited_and_serves: [Js],
    environment_is_the_deployments_at_the_top_level_and_in_handlers: [Js],
    an_unchanged_repack_reuses_the_component_and_the_output_is_reproducible: [Js],
    the_http_template_packs_and_serves: [Js, Npm],
    a_fetch_event_worker_serves: [Js],
    bad_input_is_named: [Js],
    the_sdk_reaches_dns_virtual_files_and_postgres_inside_and_under_node: [Js, Openssl, Postgres],
    the_sdk_passes_its_own_tests_under_node: [Js, Postgres],
    the_js_toolchain_installs_from_the_lock_and_then_offline: [Js, Npm],
}

/// A project packed once: its directory, manifest and the runner's cache.
struct Packed {
    dir: PathBuf,
    manifest: PathBuf,
    cache: PathBuf,
}

impl Packed {
    fn new(source: &Path, name: &str) -> Packed {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ts-fixtures").join(name);
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join(name);
        crate::support::copy_project(source, &dir);
        let manifest = crate::support::pack(&dir);
        Packed { dir, manifest, cache: root.join("cache") }
    }

    fn serve(&self) -> Served {
        Served::start(&self.manifest, &self.cache)
    }
}

fn hono() -> &'static Packed {
    static PACKED: OnceLock<Packed> = OnceLock::new();
    PACKED.get_or_init(|| Packed::new(&crate::support::repo().join("tests/fixtures/ts-hono"), "ts-hono"))
}

fn hono_app_packs_unedited_and_serves() {
    let packed = hono();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&packed.manifest).unwrap()).unwrap();
    assert_eq!(manifest["component"]["language"], "ts");
    assert_eq!(manifest["component"]["world"], "http");
    assert_eq!(manifest["component"]["exports"], serde_json::json!(["wasi:http/incoming-handler@0.2.10"]));
    for tool in ["node", "componentize-js", "esbuild"] {
        assert!(manifest["toolchain"][tool].is_string(), "the manifest records {tool}: {manifest}");
    }
    assert_eq!(manifest["toolchain"]["componentize-js"], "0.23.0");
    let source = std::fs::read_to_string(packed.dir.join("src/index.ts")).unwrap();
    let original = std::fs::read_to_string(crate::support::repo().join("tests/fixtures/ts-hono/src/index.ts")).unwrap();
    assert_eq!(source, original, "the app is not edited");

    let served = packed.serve();
    let (status, body) = request(served.addr, "GET", "/users/2", "");
    assert_eq!((status, body.as_str()), (200, r#"{"id":2,"name":"grace"}"#));
    let (status, body) = request(served.addr, "GET", "/users/9", "");
    assert_eq!((status, body.as_str()), (404, r#"{"error":"no such user"}"#));
    let (status, body) = request(served.addr, "POST", "/users", r#"{"name":"linus"}"#);
    assert_eq!((status, body.as_str()), (201, r#"{"id":3,"name":"linus"}"#));
    let (status, body) = request(served.addr, "GET", "/search?q=wasm", "");
    assert_eq!((status, body.as_str()), (200, r#"{"q":"wasm","env":"hello from the manifest"}"#));
    let (status, _) = request(served.addr, "GET", "/nothing/here", "");
    assert_eq!(status, 404, "hono's own 404");
    let (status, _) = request(served.addr, "POST", "/users", "not json");
    assert!(status >= 400, "a bad body is an error response, not a dropped connection: {status}");
}

fn environment_is_the_deployments_at_the_top_level_and_in_handlers() {
    let packed = hono();
    let served = packed.serve();
    let (_, body) = request(served.addr, "GET", "/", "");
    assert_eq!(body, "hello from the manifest (top level), hello from the manifest (handler)\n");
    drop(served);

    // Another deployment of the same component: no repack.
    let original = std::fs::read_to_string(&packed.manifest).unwrap();
    let edited = packed.manifest.with_file_name("edited.warp.json");
    crate::support::write_edited_manifest(&edited, &original, |m| {
        m["env"]["GREETING"] = "from another deployment".into();
    });
    let served = Served::start(&edited, &packed.cache);
    let (_, body) = request(served.addr, "GET", "/", "");
    assert_eq!(body, "from another deployment (top level), from another deployment (handler)\n");
    // The build machine's environment never leaks in.
    let manifest: serde_json::Value = serde_json::from_str(&original).unwrap();
    let component =
        std::fs::read(packed.manifest.with_file_name(manifest["component"]["path"].as_str().unwrap())).unwrap();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    assert!(!contains(&component, format!("HOME={home}").as_bytes()), "the build's env is not in the snapshot");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn an_unchanged_repack_reuses_the_component_and_the_output_is_reproducible() {
    let packed = hono();
    let component = packed.manifest.with_file_name("ts-hono.wasm");
    let first = std::fs::read(&component).unwrap();
    // The component cache holds one entry; a repack that componentized
    // again would replace it (a new file), an unchanged one only reads it.
    let cache = packed.dir.join("target/warp/js/cache");
    let entries = || -> Vec<(PathBuf, std::time::SystemTime)> {
        let mut entries: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .map(|e| (e.path(), e.metadata().unwrap().modified().unwrap()))
            .collect();
        entries.sort();
        entries
    };
    let before = entries();
    assert_eq!(before.len(), 1, "{before:?}");
    let repacked = crate::support::pack(&packed.dir);
    assert_eq!(repacked, packed.manifest);
    assert_eq!(entries(), before, "the repack took the cached component");
    assert_eq!(std::fs::read(&component).unwrap(), first, "an unchanged repack writes the same bytes");

    // The bundle is byte-identical from a fresh copy of the same sources.
    let bundle = std::fs::read(packed.dir.join("target/warp/js/app.js")).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let copy = temp.path().join("ts-hono");
    crate::support::copy_project(&packed.dir, &copy);
    std::fs::remove_dir_all(copy.join("target")).ok();
    crate::support::pack(&copy);
    assert_eq!(std::fs::read(copy.join("target/warp/js/app.js")).unwrap(), bundle, "the same bundle");
    // ComponentizeJS again (the copy has no cache), under warp's
    // deterministic Wizer: the same component, byte for byte.
    let again = std::fs::read(copy.join("target/warp/ts-hono.wasm")).unwrap();
    assert!(again == first, "the same sources give the same component ({} vs {} bytes)", again.len(), first.len());
}

fn the_http_template_packs_and_serves() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "ts", "--template", "http", "shop"])).expect_code(0);
    let dir = temp.path().join("shop");
    assert!(dir.join("vendor/warpgrid-sdk/src/pg.js").is_file(), "the SDK is vendored");
    let manifest = crate::support::pack(&dir);
    assert!(dir.join("node_modules/hono").is_dir(), "pack installed the dependencies");
    let served = Served::start(&manifest, &temp.path().join("cache"));
    the_http_template_answers(served.addr, "shop");
}

/// The answers of the JS `http` templates (ts-http, bun-http: the same
/// routes) for a project named `name`, greeting with the template's default.
pub(crate) fn the_http_template_answers(addr: std::net::SocketAddr, name: &str) {
    let (status, body) = request(addr, "GET", "/", "");
    assert_eq!((status, body), (200, format!("Hello from {name}\n")));
    let (status, body) = request(addr, "GET", "/hello/ada", "");
    assert_eq!((status, body.as_str()), (200, r#"{"message":"Hello, ada!"}"#));
    let (status, body) = request(addr, "POST", "/echo", r#"{"n":1}"#);
    assert_eq!((status, body.as_str()), (200, r#"{"received":{"n":1}}"#));
    let (status, body) = request(addr, "GET", "/nope", "");
    assert_eq!((status, body.as_str()), (404, r#"{"error":"no route for GET /nope"}"#));
    // No database at the template's address: a JSON error, not a crash.
    let (status, body) = request(addr, "GET", "/db", "");
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with(r#"{"error":"#), "{body}");
}

/// A JS project (package.json) of the given files.
pub(crate) fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("app");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("package.json"), r#"{"name":"app","private":true,"type":"module"}"#).unwrap();
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
    (temp, dir)
}

/// The service-worker style (`addEventListener('fetch', …)`, as workers
/// and ComponentizeJS's own examples write it), with a module that has no
/// export at all.
fn a_fetch_event_worker_serves() {
    let (temp, dir) = project(&[(
        "src/index.js",
        "let served = 0;\naddEventListener('fetch', (event) => {\n  served += 1;\n  const url = new URL(event.request.url);\n  event.respondWith(new Response(`${event.request.method} ${url.pathname} ${process.env.WHO} ${served}\\n`));\n});\n",
    )]);
    std::fs::write(dir.join("warp.toml"), "[env]\nWHO = \"worker\"\n").unwrap();
    let manifest = crate::support::pack(&dir);
    let served = Served::start(&manifest, &temp.path().join("cache"));
    assert_eq!(request(served.addr, "GET", "/a", ""), (200, "GET /a worker 1\n".into()));
    // A fresh instance per request: the top level runs again for each.
    assert_eq!(request(served.addr, "POST", "/b", "x"), (200, "POST /b worker 1\n".into()));
}

fn bad_input_is_named() {
    let (_temp, dir) = project(&[(
        "src/index.ts",
        "export default {\n  fetch(req: Request) {\n    return new Response('x'\n  },\n};\n",
    )]);
    run(warp(&dir).arg("pack")).expect_code(1).stderr_has("src/index.ts:4:").stderr_has("`app` failed to bundle");
    assert!(!dir.join("target/warp/app.wasm").exists(), "nothing half-written");

    let (_temp, dir) = project(&[("src/index.ts", "export const answer = 42;\n")]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("`src/index.ts` exports no request handler")
        .stderr_has("export default { fetch(request)");

    let (_temp, dir) = project(&[(
        "src/index.ts",
        "import { readFileSync } from 'node:fs';\nexport default { fetch: () => new Response(readFileSync('/x')) };\n",
    )]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("src/index.ts:1:")
        .stderr_has("`node:fs` is a Node.js built-in module");

    let (_temp, dir) = project(&[(
        "src/index.ts",
        "import { resolve } from 'warpgrid:shim/dns@0.1.0';\nexport default { fetch: () => new Response(String(resolve)) };\n",
    )]);
    run(warp(&dir).arg("pack")).expect_code(1).stderr_has("enable the `dns` shim in warp.toml");

    // No JS toolchain in this cache: the error says how to install it.
    let (_temp, dir) = project(&[("src/index.ts", "export default { fetch: () => new Response('x') };\n")]);
    let empty = tempfile::tempdir().unwrap();
    run(warp(&dir).arg("pack").env("WARP_CACHE_DIR", empty.path()))
        .expect_code(2)
        .stderr_has("the JS toolchain (ComponentizeJS, esbuild, bun) is not installed")
        .stderr_has("help: warp toolchain install js");
}

fn the_sdk_reaches_dns_virtual_files_and_postgres_inside_and_under_node() {
    let bin = crate::support::postgres_bin().expect("the test declares Need::Postgres");
    let temp = tempfile::tempdir().unwrap();
    let certs = crate::servers::Certs::new(temp.path());
    let server = crate::servers::Server::postgres(&bin, temp.path(), &certs);
    let (_project_temp, project) = crate::support::fixture("ts-sdk");
    let config = std::fs::read_to_string(project.join("warp.toml")).unwrap();
    std::fs::write(project.join("warp.toml"), config.replace("5432", &server.port.to_string())).unwrap();
    let manifest = crate::support::pack(&project);
    let text = std::fs::read_to_string(&manifest).unwrap();
    for shim in ["warpgrid:shim/dns@0.1.0", "warpgrid:shim/filesystem@0.1.0", "warpgrid:shim/database-proxy@0.1.0"] {
        assert!(text.contains(shim), "the component imports {shim}: {text}");
    }

    let served = Served::start(&manifest, &temp.path().join("cache"));
    let get = |path: &str| request(served.addr, "GET", path, "");
    assert_eq!(get("/dns?host=db.production.warp.local"), (200, "127.0.0.1\n".into()));
    assert_eq!(get("/dns?host=api.production.warp.local"), (200, "10.1.2.3,10.1.2.4\n".into()));
    let (status, body) = get("/dns?host=nothing.production.warp.local");
    assert_eq!(status, 502, "{body}");
    assert!(body.starts_with("ENOTFOUND"), "{body}");
    let (status, body) = get("/file?path=/etc/resolv.conf");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("generated by warp run") && body.contains("search production.warp.local"), "{body}");
    for round in 0..2 {
        assert_eq!(get("/db"), (200, "42 warp 2,4,6\n".into()), "round {round}");
    }
    assert_eq!(get("/db-error"), (200, "error 42P01\n".into()));

    // The same file under plain node: real DNS, files and TCP.
    the_sdk_answers_natively(Path::new("node"), &project, server.port);
}

/// `native.mjs` of the ts-sdk fixture under `program` (node, bun): the app
/// with the SDK's native mode against the PostgreSQL on `port`.
pub(crate) fn the_sdk_answers_natively(program: &Path, project: &Path, port: u16) {
    std::fs::write(project.join("native.txt"), "a real file\n").unwrap();
    let sdk_link = project.join("node_modules/@warpgrid/sdk");
    std::fs::create_dir_all(sdk_link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(crate::support::repo().join("sdk/js"), &sdk_link).unwrap();
    let native = std::process::Command::new(program)
        .current_dir(project)
        .env("DATABASE_URL", format!("postgres://warp@127.0.0.1:{port}/postgres"))
        .args(["native.mjs", "/dns?host=localhost", "/file?path=native.txt", "/db", "/db-error"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&native.stdout);
    assert!(native.status.success(), "{stdout}{}", String::from_utf8_lossy(&native.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("200 ") && lines[0].contains("127.0.0.1"), "{stdout}");
    assert_eq!(lines[1], "200 a real file", "{stdout}");
    assert_eq!(&lines[2..], ["200 42 warp 2,4,6", "200 error 42P01"], "{stdout}");
}

/// `sdk/js/test` (the pg client's protocol, auth methods and types against
/// a PostgreSQL it starts itself) under plain `node --test`.
fn the_sdk_passes_its_own_tests_under_node() {
    let output = std::process::Command::new("node")
        .current_dir(crate::support::repo().join("sdk/js"))
        .args(["--test", "test/"])
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    for counter in ["# fail 0", "# skipped 0", "# todo 0"] {
        assert!(stdout.lines().any(|line| line == counter), "`{counter}`: {stdout}");
    }
}

/// `warp toolchain install js` into an empty cache: npm ci of warp's lock
/// from the registry; then again with the registry unreachable, which the
/// cache serves; `warp doctor` then finds the pinned versions.
fn the_js_toolchain_installs_from_the_lock_and_then_offline() {
    let cache = tempfile::tempdir().unwrap();
    let here = Path::new(".");
    run(warp(here).args(["toolchain", "install", "js"]).env("WARP_CACHE_DIR", cache.path())).expect_code(0);
    let installed: Vec<PathBuf> =
        std::fs::read_dir(cache.path().join("js")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(installed.len(), 1, "one install, no temporary directory left: {installed:?}");
    assert!(installed[0].join("node_modules/@bytecodealliance/componentize-js/package.json").is_file());

    let offline = run(warp(here)
        .args(["toolchain", "install", "js"])
        .env("WARP_CACHE_DIR", cache.path())
        .env("npm_config_registry", "http://127.0.0.1:9/")
        .env("npm_config_offline", "true"));
    offline.expect_code(0);
    let json = run(warp(here).args(["doctor", "--lang", "ts", "--json"]).env("WARP_CACHE_DIR", cache.path()))
        .expect_code(0)
        .json();
    let checks = json["checks"].as_array().unwrap();
    let toolchain = checks.iter().find(|c| c["name"] == "JS toolchain").unwrap();
    assert_eq!(toolchain["found"], "componentize-js 0.23.0, esbuild 0.25.12");
}
