//! `warp pack --lang bun`: Bun services bundled by the pinned `bun` with
//! warp's Bun runtime, componentized like TypeScript, served by `warp run`
//! over real HTTP; the SDK under the real `bun` binary. Each fixture is
//! packed once per test run and shared.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{Served, request, run, warp};

tests! {
    an_unchanged_bun_serve_app_packs_and_serves: [Bun],
    a_new_env_needs_no_repack: [Bun],
    bun_apis_work_in_the_component: [Bun],
    the_bun_utilities_give_what_the_real_bun_gives: [Bun],
    what_cannot_work_is_refused_at_pack_time: [Bun],
    the_http_template_packs_and_serves_and_runs_under_bun: [Bun, Npm],
    the_sdk_reaches_postgres_under_bun_and_in_the_component: [Bun, Openssl, Postgres],
}

/// A fixture packed once (with `--lang bun`): its manifest and the runner's cache.
struct Packed {
    dir: PathBuf,
    manifest: PathBuf,
    cache: PathBuf,
}

fn packed(name: &str) -> Packed {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bun-fixtures").join(name);
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join(name);
    crate::support::copy_project(&crate::support::repo().join("tests/fixtures").join(name), &dir);
    let json = run(warp(&dir).args(["pack", "--lang", "bun", "--json"])).expect_code(0).json();
    Packed { dir, manifest: PathBuf::from(json["manifest"].as_str().unwrap()), cache: root.join("cache") }
}

fn bun_serve() -> &'static Packed {
    static PACKED: OnceLock<Packed> = OnceLock::new();
    PACKED.get_or_init(|| packed("bun-serve"))
}

fn bun_apis() -> &'static Packed {
    static PACKED: OnceLock<Packed> = OnceLock::new();
    PACKED.get_or_init(|| packed("bun-apis"))
}

/// The real `bun` of warp's JS toolchain.
fn bun() -> PathBuf {
    warp::lang::bun::program().expect("the test declares Need::Bun")
}

fn an_unchanged_bun_serve_app_packs_and_serves() {
    let packed = bun_serve();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&packed.manifest).unwrap()).unwrap();
    assert_eq!(manifest["component"]["language"], "bun");
    assert_eq!(manifest["component"]["exports"], serde_json::json!(["wasi:http/incoming-handler@0.2.10"]));
    for tool in ["node", "componentize-js", "bun"] {
        assert!(manifest["toolchain"][tool].is_string(), "the manifest records {tool}: {manifest}");
    }
    let source = std::fs::read_to_string(packed.dir.join("src/index.ts")).unwrap();
    let original =
        std::fs::read_to_string(crate::support::repo().join("tests/fixtures/bun-serve/src/index.ts")).unwrap();
    assert_eq!(source, original, "the app is not edited");

    // An unchanged repack takes the cached component: the same bytes, no ComponentizeJS.
    let component = packed.manifest.with_file_name("bun-serve.wasm");
    let first = std::fs::read(&component).unwrap();
    let repack = run(warp(&packed.dir).args(["pack", "--lang", "bun", "-v"]));
    repack.expect_code(0);
    assert!(!repack.stderr.contains("ComponentizeJS"), "{}", repack.stderr);
    assert_eq!(std::fs::read(&component).unwrap(), first);

    let served = Served::start(&packed.manifest, &packed.cache);
    assert_eq!(request(served.addr, "GET", "/", ""), (200, "Guten Tag from Bun.serve\n".into()));
    assert_eq!(
        request(served.addr, "POST", "/items", r#"{"name":"bolt","qty":21}"#),
        (201, r#"{"created":{"name":"bolt","qty":21},"total":42}"#.into())
    );
    assert_eq!(request(served.addr, "GET", "/nothing", ""), (404, "no route for GET /nothing\n".into()));
}

/// The same component with another manifest `env`: the top level's
/// `Bun.env.GREETING` is the new deployment's.
fn a_new_env_needs_no_repack() {
    let packed = bun_serve();
    let original = std::fs::read_to_string(&packed.manifest).unwrap();
    let edited = packed.manifest.with_file_name("edited.warp.json");
    crate::support::write_edited_manifest(&edited, &original, |m| {
        m["env"]["GREETING"] = "Bonjour".into();
    });
    let served = Served::start(&edited, &packed.cache);
    assert_eq!(request(served.addr, "GET", "/", ""), (200, "Bonjour from Bun.serve\n".into()));
}

fn bun_apis_work_in_the_component() {
    let packed = bun_apis();
    let served = Served::start(&packed.manifest, &packed.cache);
    let get = |path: &str| request(served.addr, "GET", path, "");
    // Bun.file: embedded by a constant path, by a computed one, and under
    // a directory a computed path starts with.
    assert_eq!(get("/asset"), (200, "hello from an embedded file\n".into()));
    assert_eq!(get("/asset-text"), (200, "hello from an embedded file\n".into()));
    assert_eq!(get("/docs/index.html"), (200, "<h1>docs</h1>\n".into()));
    assert_eq!(get("/docs/other.html"), (404, "no page\n".into()));
    assert_eq!(get("/missing"), (200, r#"{"exists":false}"#.into()));
    // A virtual file of the filesystem shim.
    let (status, hosts) = get("/virtual");
    assert_eq!(status, 200, "{hosts}");
    assert!(hosts.contains("localhost"), "{hosts}");
    // A preopened read-write directory: Bun.write, then Bun.file.
    let (status, body) = get("/data");
    assert_eq!(status, 200, "{body}");
    let data: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(data["note"], "from the data directory\n");
    assert_eq!(data["out"], "written by Bun.write\n");
    assert_eq!(data["written"], 21);
    assert_eq!(std::fs::read_to_string(packed.dir.join("data/out.txt")).unwrap(), "written by Bun.write\n");

    let (status, body) = get("/sleep");
    assert_eq!(status, 200, "{body}");
    let slept: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(slept["sleptMs"].as_f64().unwrap() >= 9.5, "Bun.sleep(10) waited: {body}");

    // The utilities give what the real bun gives.
    let (status, body) = get("/utils");
    assert_eq!(status, 200, "{body}");
    let utils: serde_json::Value = serde_json::from_str(&body).unwrap();
    let native = Command::new(bun())
        .args([
            "-e",
            r#"console.log(JSON.stringify({ version: Bun.version, base64: Buffer.from("warp").toString("base64"), type: Bun.file("x.txt").type, hash: Bun.hash("warp").toString(), sha256: new Bun.CryptoHasher("sha256").update("warp").digest("hex"), escaped: Bun.escapeHTML("<a href=\"x\">&</a>"), equal: Bun.deepEquals({ a: [1, 2] }, { a: [1, 2] }), unequal: Bun.deepEquals({ a: 1 }, { a: 2 }) }))"#,
        ])
        .output()
        .unwrap();
    assert!(native.status.success(), "{}", String::from_utf8_lossy(&native.stderr));
    let expected: serde_json::Value = serde_json::from_slice(&native.stdout).unwrap();
    assert_eq!(utils, expected);

    // A dynamic import() of what no component has rejects; it does not trap.
    assert_eq!(get("/absent"), (200, "`cloudflare:sockets` is not available in a warp component\n".into()));
    // StarlingMonkey has no Response.clone; warp's prelude gives one (Elysia needs it).
    assert_eq!(get("/clone"), (202, "twicetwice".into()));
    assert_eq!(get("/password"), (200, r#"{"prefix":"$2b$04$","right":true,"wrong":false}"#.into()));

    // `export default { routes, fetch, error }`, as Bun serves it.
    assert_eq!(get("/users/7"), (200, r#"{"id":"7"}"#.into()));
    assert_eq!(get("/health"), (200, "ok\n".into()));
    assert_eq!(get("/health"), (200, "ok\n".into()), "a static Response is served again");
    assert_eq!(request(served.addr, "POST", "/method", ""), (200, "post\n".into()));
    assert_eq!(get("/throw"), (500, "handled: boom\n".into()));
    assert_eq!(get("/elsewhere"), (404, "not found\n".into()));
}

/// `toolchains/js/bun/utils.test.mjs` under the real bun: Bun.hash (every
/// variant), CryptoHasher, password, deepEquals and escapeHTML of warp's
/// runtime against Bun's own, over thousands of generated inputs.
fn the_bun_utilities_give_what_the_real_bun_gives() {
    let bun = bun();
    // <toolchain>/node_modules/@oven/<platform>/bin/bun
    let toolchain = bun.ancestors().nth(5).unwrap();
    let output = Command::new(&bun)
        .arg("toolchains/js/bun/utils.test.mjs")
        .current_dir(crate::support::repo())
        .env("WARP_JS_TOOLCHAIN", toolchain)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Bun.hash") && stdout.contains("Bun.password"), "{stdout}");
}

/// A Bun project (a bunfig.toml marks it) of the given files.
fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let (temp, dir) = crate::ts::project(files);
    std::fs::write(dir.join("bunfig.toml"), "").unwrap();
    (temp, dir)
}

fn what_cannot_work_is_refused_at_pack_time() {
    let (_temp, dir) = project(&[(
        "src/index.ts",
        "const greeting = 'hi';\n\nconst proc = Bun.spawn(['ls']);\nBun.serve({ fetch: () => new Response(greeting) });\n",
    )]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("src/index.ts:3:14: `Bun.spawn` cannot work in a component")
        .stderr_has("const proc = Bun.spawn(['ls']);");
    assert!(!dir.join("target/warp/app.wasm").exists(), "nothing half-written");

    let (_temp, dir) = project(&[(
        "src/index.ts",
        "import { Database } from 'bun:sqlite';\nconst db = new Database(':memory:');\nexport default { fetch: () => new Response(String(db)) };\n",
    )]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("src/index.ts:1:")
        .stderr_has("`bun:sqlite` cannot work in a component")
        .stderr_has("help: use PostgreSQL or MySQL through @warpgrid/sdk");

    // Every problem at once, each with its line.
    let (_temp, dir) = project(&[(
        "src/index.ts",
        "import { $ } from 'bun';\nimport { readFileSync } from 'node:fs';\nawait Bun.write('/tmp/out.txt', 'x');\nBun.serve({\n  fetch: () => new Response('x'),\n  websocket: { message() {} },\n});\n",
    )]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("src/index.ts:1:10: `Bun.$` cannot work in a component")
        .stderr_has("src/index.ts:2:")
        .stderr_has("`node:fs` is a Node.js built-in module")
        .stderr_has("src/index.ts:3:7: `Bun.write` to `/tmp/out.txt` cannot work in a component")
        .stderr_has("src/index.ts:6:3: `websocket` in `Bun.serve` cannot work in a component");

    // Argon2 at Bun's default cost would take minutes without a JIT.
    let (_temp, dir) = project(&[(
        "src/index.ts",
        "export default {\n  async fetch() {\n    return new Response(await Bun.password.hash('pw'));\n  },\n};\n",
    )]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("src/index.ts:3:31: `Bun.password.hash` with argon2 at 65536 KiB × 2 passes cannot work")
        .stderr_has("{ algorithm: \"bcrypt\", cost: 8 }");

    // A Bun app without a Bun marker is TypeScript to warp, which says so.
    let (_temp, dir) = project(&[("src/index.ts", "Bun.serve({ fetch: () => new Response('x') });\n")]);
    std::fs::remove_file(dir.join("bunfig.toml")).unwrap();
    run(warp(&dir).arg("pack")).expect_code(1).stderr_has("pack it with `--lang bun`");

    let (_temp, dir) = project(&[("src/index.ts", "export const answer = 42;\n")]);
    run(warp(&dir).arg("pack"))
        .expect_code(1)
        .stderr_has("`src/index.ts` serves no requests")
        .stderr_has("Bun.serve({ fetch(request)");
}

fn the_http_template_packs_and_serves_and_runs_under_bun() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "bun", "--template", "http", "shop"])).expect_code(0);
    let dir = temp.path().join("shop");
    let manifest = crate::support::pack(&dir);
    assert!(dir.join("node_modules/hono").is_dir(), "pack installed the dependencies");
    let served = Served::start(&manifest, &temp.path().join("cache"));
    crate::ts::the_http_template_answers(served.addr, "shop");
    drop(served);

    // The same project under `bun run`, unedited.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut native = Command::new(bun())
        .args(["run", "src/index.ts"])
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("GREETING", "Hallo")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "bun run did not listen on {addr}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let answer = request(addr, "GET", "/", "");
    native.kill().ok();
    native.wait().ok();
    assert_eq!(answer, (200, "Hallo from shop\n".into()));
}

fn the_sdk_reaches_postgres_under_bun_and_in_the_component() {
    let bin = crate::support::postgres_bin().expect("the test declares Need::Postgres");
    let temp = tempfile::tempdir().unwrap();
    let certs = crate::servers::Certs::new(temp.path());
    let server = crate::servers::Server::postgres(&bin, temp.path(), &certs);
    let (_project_temp, project) = crate::support::fixture("ts-sdk");
    let config = std::fs::read_to_string(project.join("warp.toml")).unwrap();
    std::fs::write(project.join("warp.toml"), config.replace("5432", &server.port.to_string())).unwrap();
    let json = run(warp(&project).args(["pack", "--lang", "bun", "--json"])).expect_code(0).json();
    let manifest = PathBuf::from(json["manifest"].as_str().unwrap());
    let served = Served::start(&manifest, &temp.path().join("cache"));
    for round in 0..2 {
        assert_eq!(request(served.addr, "GET", "/db", ""), (200, "42 warp 2,4,6\n".into()), "round {round}");
    }
    assert_eq!(request(served.addr, "GET", "/db-error", ""), (200, "error 42P01\n".into()));
    drop(served);

    // The same app under the real bun: real DNS, files and TCP.
    crate::ts::the_sdk_answers_natively(&bun(), &project, server.port);
}
