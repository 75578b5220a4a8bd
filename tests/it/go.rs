//! `warp pack --lang go`: unchanged net/http programs, packed with the
//! machine's Go and served by `warp run` over real HTTP. Packing a Go
//! program costs seconds (and `wasm-opt` ~20 s), so each fixture is packed
//! once per test run and shared; tests that only read from it run on it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::{Served, assert_no_temp_files, run, warp};

tests! {
    stock_program_packs_unchanged_and_serves: [Go],
    server_struct_with_patterns_answers_json: [Go],
    large_bodies_stream_both_ways: [Go],
    handler_panic_is_a_500_and_the_instance_lives_on: [Go],
    environment_is_the_deployments: [Go],
    http_template_with_chi_packs_and_serves: [Go],
    cli_template_runs_as_a_command: [Go],
    errors_name_the_construct: [Go],
    a_program_that_never_listens_is_a_500_naming_the_cause: [Go],
    the_sdk_reaches_dns_virtual_files_signals_and_postgres_through_the_proxy: [Go, Openssl, Postgres],
    tinygo_is_found_invoked_and_its_component_packed: [Go],
    port_env_picks_the_listener_and_idle_timeouts_do_not_break_requests: [Go],
}

/// A fixture or template packed once: its copy, manifest and the runner's
/// compiled-code cache (Cranelift takes ~10 s on a Go program).
struct Packed {
    dir: PathBuf,
    manifest: PathBuf,
    cache: PathBuf,
    /// Every file of the project (outside `target/`) before the pack.
    before: Vec<(PathBuf, Vec<u8>)>,
}

impl Packed {
    fn new(source: &Path, name: &str) -> Packed {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-fixtures").join(name);
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join(name);
        crate::support::copy_project(source, &dir);
        let before = files(&dir);
        let manifest = crate::support::pack(&dir);
        Packed { dir, manifest, cache: root.join("cache"), before }
    }

    fn serve(&self) -> Served {
        Served::start(&self.manifest, &self.cache)
    }
}

fn stock() -> &'static Packed {
    static PACKED: OnceLock<Packed> = OnceLock::new();
    PACKED.get_or_init(|| Packed::new(&crate::support::repo().join("tests/fixtures/go-stock"), "go-stock"))
}

/// The project's files (outside `target/`), sorted, with their bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "target" {
                    stack.push(path);
                }
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// A response: status, lower-cased headers, body (de-chunked).
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request with `body`, sent with Content-Length or chunked
/// (in 64 KiB chunks), and its whole response.
fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8], chunked: bool) -> Response {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    }
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let body = body.to_vec();
        std::thread::spawn(move || {
            stream.write_all(head.as_bytes())?;
            if chunked {
                for chunk in body.chunks(64 << 10) {
                    write!(stream, "{:x}\r\n", chunk.len())?;
                    stream.write_all(chunk)?;
                    stream.write_all(b"\r\n")?;
                }
                stream.write_all(b"0\r\n\r\n")?;
            } else {
                stream.write_all(&body)?;
            }
            stream.flush()
        })
    };
    let response = read_response(&mut BufReader::new(stream));
    writer.join().unwrap().unwrap();
    response
}

fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, "GET", path, &[], b"", false)
}

fn read_response(reader: &mut impl BufRead) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status =
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        for (_, chunk) in read_chunks(reader) {
            body.extend(chunk);
        }
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    Response { status, headers, body }
}

/// The chunks of a chunked body, each with when it arrived.
fn read_chunks(reader: &mut impl BufRead) -> Vec<(Instant, Vec<u8>)> {
    let mut chunks = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        chunk.truncate(size);
        if size == 0 {
            return chunks;
        }
        chunks.push((Instant::now(), chunk));
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    warp::fs::sha256_hex(bytes)
}

fn stock_program_packs_unchanged_and_serves() {
    let packed = stock();
    assert_eq!(files(&packed.dir), packed.before, "the user's files are byte-identical after the pack");
    assert_no_temp_files(&packed.dir);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&packed.manifest).unwrap()).unwrap();
    assert_eq!(manifest["component"]["language"], "go");
    assert_eq!(manifest["component"]["world"], "http");
    assert!(manifest["toolchain"]["go"].as_str().unwrap().starts_with("go1."), "{manifest}");
    assert_eq!(manifest["http"]["reuse"], 0, "Go instances are kept warm by default");

    let served = packed.serve();
    let root = get(served.addr, "/");
    assert_eq!((root.status, root.text().as_str()), (200, "hello from stock Go, from the manifest\n"));
    let echo = send(served.addr, "POST", "/echo", &[("X-Test", "a header")], b"the body", false);
    assert_eq!(echo.status, 200);
    assert_eq!(echo.text(), "the body");
    assert_eq!(echo.header("x-echo"), Some("a header"));
    assert_eq!(echo.header("x-method"), Some("POST"));
    let put = send(served.addr, "PUT", "/echo?x=1", &[], b"", false);
    assert_eq!((put.status, put.header("x-method")), (200, Some("PUT")));
    assert_eq!(get(served.addr, "/nowhere/else").status, 200, "`/` is the catch-all pattern");
    // The bridge ends a body after the announced Content-Length went out:
    // each response counts as served, none as aborted.
    let (code, lines) = served.stop();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("4 requests served, 0 failed, 0 aborted")), "{lines:#?}");
}

fn server_struct_with_patterns_answers_json() {
    let packed = Packed::new(&crate::support::repo().join("tests/fixtures/go-server"), "go-server");
    let served = packed.serve();
    let item = get(served.addr, "/items/abc");
    assert_eq!(item.status, 200);
    assert_eq!(item.header("content-type"), Some("application/json"));
    assert_eq!(item.header("cache-control"), Some("max-age=60"));
    assert_eq!(item.text(), "{\"id\":\"abc\",\"price\":300}\n");
    assert_eq!(get(served.addr, "/items/missing").status, 404);
    let created = send(served.addr, "POST", "/items", &[], br#"{"id":"x1","price":7}"#, false);
    assert_eq!(created.status, 201);
    assert_eq!(created.header("location"), Some("/items/x1"));
    assert_eq!(created.text(), "{\"id\":\"x1\",\"price\":7}\n");
    let wrong_method = send(served.addr, "DELETE", "/items/abc", &[], b"", false);
    assert_eq!(wrong_method.status, 405, "Go 1.22 patterns answer 405 for a method they do not serve");
    assert_eq!(get(served.addr, "/other").status, 404);
}

fn large_bodies_stream_both_ways() {
    let served = stock().serve();
    for size in [3 << 20, 50 << 20] {
        let body: Vec<u8> = (0..size).map(|i: usize| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let expected = format!("{} {size}\n", sha256_hex(&body));
        for chunked in [false, true] {
            let response = send(served.addr, "POST", "/sha", &[], &body, chunked);
            assert_eq!(response.status, 200, "{size} bytes, chunked: {chunked}");
            assert_eq!(response.text(), expected, "{size} bytes, chunked: {chunked}");
        }
    }
    let ticks: u64 = get(served.addr, "/ticks").text().trim().parse().unwrap();
    assert!(ticks > 0, "the program's time.Ticker ran while the bodies streamed");

    let big = get(served.addr, "/big");
    assert_eq!(big.status, 200);
    assert_eq!(big.body.len(), 1 << 20);
    assert_eq!(big.body, "0123456789abcdef".repeat(1 << 16).as_bytes());

    // A handler that flushes every 200 ms: each chunk arrives on its own.
    let mut stream = TcpStream::connect(served.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(b"GET /flush HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 2 {
        line.clear();
    }
    let chunks = read_chunks(&mut reader);
    let texts: Vec<String> = chunks.iter().map(|(_, c)| String::from_utf8_lossy(c).into_owned()).collect();
    assert_eq!(texts.concat(), "chunk 0\nchunk 1\nchunk 2\n");
    assert!(chunks.len() >= 3, "one chunk per flush: {texts:?}");
    let spread = chunks.last().unwrap().0 - chunks[0].0;
    assert!(spread >= Duration::from_millis(300), "the chunks arrived together ({spread:?}), not as flushed");
}

fn handler_panic_is_a_500_and_the_instance_lives_on() {
    let served = stock().serve();
    let first: u64 = get(served.addr, "/count").text().trim().parse().unwrap();
    let panicked = get(served.addr, "/panic");
    assert_eq!(panicked.status, 500);
    assert!(panicked.text().contains("did a handler panic"), "{}", panicked.text());
    let after: u64 = get(served.addr, "/count").text().trim().parse().unwrap();
    assert_eq!(after, first + 1, "the same instance (and its package-level state) serves after the panic");
    served.wait_for_stderr("handler panicked on purpose");
}

fn environment_is_the_deployments() {
    let packed = stock();
    let original = std::fs::read_to_string(&packed.manifest).unwrap();
    let edited = packed.manifest.with_file_name("edited.warp.json");
    // Beside the original, so its component path (relative) names the same file.
    crate::support::write_edited_manifest(&edited, &original, |m| {
        m["env"]["GREETING"] = "from another deployment".into();
    });
    let served = Served::start(&edited, &packed.cache);
    assert_eq!(get(served.addr, "/").text(), "hello from stock Go, from another deployment\n");
}

fn http_template_with_chi_packs_and_serves() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "go", "--template", "http", "shop"])).expect_code(0);
    let dir = temp.path().join("shop");
    let manifest = crate::support::pack(&dir);
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let root = get(served.addr, "/");
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "{\"message\":\"Hello from go-http\"}\n".replace("go-http", "shop"));
    let item = get(served.addr, "/items/1");
    assert_eq!((item.status, item.text().as_str()), (200, "{\"id\":\"1\",\"name\":\"first\"}\n"));
    let created = send(served.addr, "POST", "/items", &[], br#"{"id":"2","name":"second"}"#, false);
    assert_eq!(created.status, 201);
    assert_eq!(get(served.addr, "/items/2").text(), "{\"id\":\"2\",\"name\":\"second\"}\n", "state persists");
    assert_eq!(get(served.addr, "/items/9").status, 404);
    // Postgres-ready: with no database at the listed endpoint, a JSON error
    // naming the database (the SDK's pgx path is tested against a real one).
    let db = get(served.addr, "/db/now");
    assert!(db.status == 502 || db.status == 200, "{} {}", db.status, db.text());
    assert!(db.text().contains("database:") || db.text().contains("\"now\""), "{}", db.text());

    // The project builds natively too, against its copy of the SDK.
    assert!(dir.join("third_party/warpgrid-sdk/warpgrid/native.go").is_file());
    let native = std::process::Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(temp.path().join("native"))
        .arg(".")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(native.status.success(), "go build natively: {}", String::from_utf8_lossy(&native.stderr));
}

fn cli_template_runs_as_a_command() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "go", "--template", "cli", "greet"])).expect_code(0);
    let dir = temp.path().join("greet");
    let manifest = crate::support::pack(&dir);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(json["component"]["world"], "cli");
    let output = run(warp(&dir)
        .arg("run")
        .arg(&manifest)
        .args(["--", "Go", "folks"])
        .env("WARP_CACHE_DIR", temp.path().join("cache")));
    output.expect_code(0).stdout_has("Hello, Go folks! (from greet)");
}

/// A Go project in a temporary directory: `go.mod` and `main.go`.
fn project(main_go: &str) -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("go.mod"), "module example.com/bad\n\ngo 1.24\n").unwrap();
    std::fs::write(temp.path().join("main.go"), main_go).unwrap();
    temp
}

fn errors_name_the_construct() {
    // A compile error: Go's own diagnostics, with file and line.
    let temp = project(
        "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n\tundefinedThing()\n}\n",
    );
    let failed = run(warp(temp.path()).arg("pack"));
    failed.expect_code(1).stderr_has("main.go:7:2: undefined: undefinedThing").stderr_has("could not compile `bad`");
    assert!(!temp.path().join("target/warp/bad.wasm").exists(), "nothing is written for a failed build");

    // Not a main package.
    let temp = project("package shop\n\nfunc Price() int { return 1 }\n");
    run(warp(temp.path()).arg("pack")).expect_code(1).stderr_has("is `package shop`, not a main package");

    // A main package without main.
    let temp = project("package main\n\nimport _ \"net/http\"\n");
    run(warp(temp.path()).arg("pack")).expect_code(1).stderr_has("the main package has no `func main()`");

    // cgo, named where it is written.
    let temp = project("package main\n\n// int two() { return 2; }\nimport \"C\"\n\nfunc main() {}\n");
    run(warp(temp.path()).arg("pack")).expect_code(1).stderr_has("main.go:4: imports \"C\": cgo cannot be built");

    // os/exec in the program's own code.
    let temp = project(
        "package main\n\nimport (\n\t\"net/http\"\n\t\"os/exec\"\n)\n\nfunc main() {\n\texec.Command(\"ls\").Run()\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
    );
    run(warp(temp.path()).arg("pack"))
        .expect_code(1)
        .stderr_has("main.go:5: imports \"os/exec\": a component cannot start processes");

    // A Go release outside the supported range (a stand-in `go` that
    // reports an old version: what is tested is warp's check).
    let temp = project("package main\n\nfunc main() {}\n");
    let fake = temp.path().join("old-go");
    std::fs::write(&fake, "#!/bin/sh\necho go1.21.13\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    run(warp(temp.path()).arg("pack").env("WARP_GO", &fake))
        .expect_code(2)
        .stderr_has("is go1.21.13; warp supports Go 1.24 to 1.26");
}

fn a_program_that_never_listens_is_a_500_naming_the_cause() {
    let temp = project(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", http.NotFound)\n\tfmt.Println(\"configured, but no server\")\n}\n",
    );
    std::fs::write(temp.path().join("warp.toml"), "lang = \"go\"\n\n[go]\noptimize = false\n").unwrap();
    let manifest = crate::support::pack(temp.path());
    let served = Served::start(&manifest, &temp.path().join("cache"));
    let response = get(served.addr, "/");
    assert_eq!(response.status, 500);
    assert!(response.text().contains("main returned without listening"), "{}", response.text());
}

fn the_sdk_reaches_dns_virtual_files_signals_and_postgres_through_the_proxy() {
    let bin = crate::support::postgres_bin().expect("the test declares Need::Postgres");
    let temp = tempfile::tempdir().unwrap();
    let certs = crate::servers::Certs::new(temp.path());
    let server = crate::servers::Server::postgres(&bin, temp.path(), &certs);
    let (_project_temp, project) = crate::support::fixture("go-sdk");
    let config = std::fs::read_to_string(project.join("warp.toml")).unwrap();
    std::fs::write(project.join("warp.toml"), config.replace("5432", &server.port.to_string())).unwrap();
    let manifest = crate::support::pack(&project);
    let imports = std::fs::read_to_string(&manifest).unwrap();
    for shim in ["warpgrid:shim/dns@0.1.0", "warpgrid:shim/filesystem@0.1.0", "warpgrid:shim/database-proxy@0.1.0"] {
        assert!(imports.contains(shim), "the component imports {shim}: {imports}");
    }
    let served = Served::start(&manifest, &temp.path().join("cache"));

    let dns = get(served.addr, "/dns?host=api.production.warp.local");
    assert_eq!((dns.status, dns.text().as_str()), (200, "10.1.2.3,10.1.2.4\n"));
    assert_eq!(get(served.addr, "/dns?host=nothing.production.warp.local").status, 502);

    let hosts = get(served.addr, "/file?path=/etc/timezone");
    assert_eq!((hosts.status, hosts.text().as_str()), (200, "virtual=true\nUTC\n"));

    for round in 0..2 {
        let db = get(served.addr, "/db");
        assert_eq!((db.status, db.text().as_str()), (200, "42 warp\n"), "round {round}");
    }

    assert_eq!(get(served.addr, "/signal/subscribe").text(), "true\n");
    assert_eq!(get(served.addr, "/signal/poll").text(), "none\n");
    let hup = std::process::Command::new("kill").args(["-HUP", &served.child.id().to_string()]).status().unwrap();
    assert!(hup.success());
    served.wait_for_stderr("Reloaded sdkprobe");
    assert_eq!(get(served.addr, "/signal/poll").text(), "hangup\n", "the reload is queued as hangup");
    assert_eq!(get(served.addr, "/signal/poll").text(), "none\n");
}

/// TinyGo cannot be obtained on these machines, so this checks warp's
/// side with a stand-in `tinygo` (a script that answers `version` and, for
/// `build`, records its arguments and writes a real component: the go-cli
/// template built by standard Go). TinyGo itself does not run here.
fn tinygo_is_found_invoked_and_its_component_packed() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["new", "--lang", "go", "--template", "cli", "greet"])).expect_code(0);
    let dir = temp.path().join("greet");
    let real = crate::support::pack(&dir);
    let component = real.with_file_name("greet.wasm");
    let standin_output = temp.path().join("standin.wasm");
    std::fs::copy(&component, &standin_output).unwrap();

    // No TinyGo anywhere: the error names where warp looked and the fixes.
    run(warp(&dir).args(["pack", "--toolchain", "tinygo"]).env_remove("WARP_TINYGO"))
        .expect_code(2)
        .stderr_has("no TinyGo: looked at $WARP_TINYGO, `tinygo` on PATH and warp's own build")
        .stderr_has("warp toolchain build tinygo");

    let tinygo = temp.path().join("tinygo");
    let args = temp.path().join("tinygo-args");
    std::fs::write(
        &tinygo,
        format!(
            "#!/bin/sh\nif [ \"$1\" = version ]; then echo 'tinygo version 0.39.0 linux/amd64 (stand-in)'; exit 0; fi\n\
             echo \"$@\" > {args}\nwhile [ \"$1\" != -o ]; do shift; done\ncp {out} \"$2\"\n",
            args = args.display(),
            out = standin_output.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&tinygo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let packed = run(warp(&dir).args(["pack", "--json", "--toolchain", "tinygo"]).env("WARP_TINYGO", &tinygo));
    packed.expect_code(0);
    let recorded = std::fs::read_to_string(&args).unwrap();
    assert!(recorded.starts_with("build -target=wasip2 -no-debug -o "), "{recorded}");
    let manifest = PathBuf::from(packed.json()["manifest"].as_str().unwrap());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(json["toolchain"]["tinygo"], "tinygo version 0.39.0 linux/amd64 (stand-in)");
    assert!(json["toolchain"].get("go").is_none(), "{json}");
    run(warp(&dir).arg("run").arg(&manifest).args(["--", "tiny"]).env("WARP_CACHE_DIR", temp.path().join("cache")))
        .expect_code(0)
        .stdout_has("Hello, tiny! (from greet)");

    // A net/http service stays with standard Go.
    let service = stock();
    run(warp(&service.dir).args(["pack", "--toolchain", "tinygo"]).env("WARP_TINYGO", &tinygo))
        .expect_code(1)
        .stderr_has("TinyGo builds `wasi:cli` programs here");
    // Another language has no such choice.
    let c = tempfile::tempdir().unwrap();
    std::fs::write(c.path().join("main.c"), "int main(void) { return 0; }\n").unwrap();
    run(warp(c.path()).args(["pack", "--lang", "c", "--toolchain", "tinygo"]))
        .expect_code(2)
        .stderr_has("`--toolchain tinygo` is not a compiler for C");
}

fn port_env_picks_the_listener_and_idle_timeouts_do_not_break_requests() {
    let packed = Packed::new(&crate::support::repo().join("tests/fixtures/go-listeners"), "go-listeners");
    let served = packed.serve();
    for round in 0..6 {
        let response = get(served.addr, "/");
        assert_eq!((response.status, response.text().as_str()), (200, "service on 8081\n"), "round {round}");
        // Past the server's IdleTimeout before the next request (the
        // bridge redials a kept-alive connection the server closed).
        std::thread::sleep(Duration::from_millis(60));
    }
}
