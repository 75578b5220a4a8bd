//! A third-party wasi:http guest (`tests/fixtures/wstd-service`, plain wstd)
//! behaves under `warp run` as it does under `wasmtime serve` of the same
//! Wasmtime major: the same requests over real HTTP on loopback, the
//! responses compared field by field.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

tests! {
    a_third_party_guest_behaves_as_under_wasmtime_serve: [WasmTarget, Wasmtime],
}

struct WasmtimeServe {
    child: Child,
    addr: SocketAddr,
}

impl WasmtimeServe {
    fn start(wasmtime: &Path, component: &Path) -> WasmtimeServe {
        let addr = free_port();
        let child = Command::new(wasmtime)
            .args(["serve", "-Scli", "--addr", &addr.to_string()])
            .arg(component)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Stopped on drop, also when it never listens.
        let server = WasmtimeServe { child, addr };
        for _ in 0..500 {
            if TcpStream::connect(addr).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("wasmtime serve did not listen on {addr} within 10 s");
    }
}

impl Drop for WasmtimeServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// One request, written by hand so bodies can be chunked with trailers.
struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    /// Sent as separate chunks (a streamed request body).
    chunks: Vec<Vec<u8>>,
    trailers: &'static [(&'static str, &'static str)],
}

/// What came back, with the parts that legitimately differ (the `date`
/// header) left out.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    trailers: Vec<(String, String)>,
    /// Whether the body ended properly (false: the connection was cut).
    complete: bool,
}

fn send(addr: SocketAddr, case: &Case) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // Each chunk leaves in its own write, not batched by Nagle's algorithm.
    stream.set_nodelay(true).unwrap();
    let mut head =
        format!("{} {} HTTP/1.1\r\nhost: test\r\nconnection: close\r\nte: trailers\r\n", case.method, case.path);
    for (name, value) in case.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if case.method == "POST" {
        head.push_str("transfer-encoding: chunked\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    if case.method == "POST" {
        for chunk in &case.chunks {
            stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).unwrap();
            stream.write_all(chunk).unwrap();
            stream.write_all(b"\r\n").unwrap();
        }
        stream.write_all(b"0\r\n").unwrap();
        for (name, value) in case.trailers {
            stream.write_all(format!("{name}: {value}\r\n").as_bytes()).unwrap();
        }
        stream.write_all(b"\r\n").unwrap();
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse(&raw)
}

fn parse(raw: &[u8]) -> Answer {
    if raw.is_empty() {
        // The connection closed without a response.
        return Answer { status: 0, headers: vec![], body: vec![], trailers: vec![], complete: false };
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no response head: {raw:?}"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(k, _)| k != "date")
        .collect();
    headers.sort();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let (mut body, mut trailers, mut complete) = (Vec::new(), Vec::new(), !chunked);
    if !chunked {
        body = rest.to_vec();
    }
    while chunked && !rest.is_empty() {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { break };
        let Ok(size) = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16) else { break };
        rest = &rest[eol + 2..];
        if size == 0 {
            let text = String::from_utf8_lossy(rest).into_owned();
            for line in text.split("\r\n").take_while(|l| !l.is_empty()) {
                if let Some((k, v)) = line.split_once(':') {
                    trailers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            trailers.sort();
            complete = text.contains("\r\n") || text.is_empty();
            break;
        }
        if rest.len() < size {
            body.extend_from_slice(rest);
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
    Answer { status, headers, body, trailers, complete }
}

fn cases() -> Vec<Case> {
    let get = |name, path| Case { name, ..get_case(path) };
    let big: Vec<Vec<u8>> = (0..64).map(|i| vec![b'a' + (i % 26) as u8; 16 * 1024]).collect();
    vec![
        get("hello", "/"),
        Case {
            name: "echo a streamed 1 MiB body",
            method: "POST",
            path: "/echo",
            headers: &[("content-type", "application/octet-stream")],
            chunks: big,
            trailers: &[],
        },
        Case {
            name: "echo headers",
            method: "GET",
            path: "/echo-headers",
            headers: &[("x-request-id", "abc-123"), ("x-multi", "one"), ("x-multi", "two"), ("accept", "*/*")],
            chunks: vec![],
            trailers: &[],
        },
        Case {
            name: "echo trailers",
            method: "POST",
            path: "/echo-trailers",
            headers: &[],
            chunks: vec![b"body before ".to_vec(), b"the trailers".to_vec()],
            trailers: &[("x-checksum", "c0ffee"), ("x-count", "2")],
        },
        Case {
            name: "echo without trailers",
            method: "POST",
            path: "/echo-trailers",
            headers: &[],
            chunks: vec![b"no trailers".to_vec()],
            trailers: &[],
        },
        get("streamed response", "/stream?n=6"),
        get("status 201", "/status/201"),
        get("status 302", "/status/302"),
        get("status 404", "/status/404"),
        get("status 418", "/status/418"),
        get("status 503", "/status/503"),
        get("unknown route", "/nowhere"),
    ]
}

fn a_third_party_guest_behaves_as_under_wasmtime_serve() {
    let wasmtime = wasmtime_cli().expect("the test declares Need::Wasmtime");
    let (temp, dir) = fixture("wstd-service");
    let manifest = pack(&dir);
    let component = dir.join("target/warp/wstd-service.wasm");

    let warp_run = Served::start(&manifest, &temp.path().join("cache"));
    let reference = WasmtimeServe::start(&wasmtime, &component);
    for case in cases() {
        let ours = send(warp_run.addr, &case);
        let theirs = send(reference.addr, &case);
        assert_eq!(ours, theirs, "`{}`: warp run (left) and wasmtime serve (right) differ", case.name);
        eprintln!("same: {} → {} ({} bytes)", case.name, ours.status, ours.body.len());
    }

    // Spot checks, so that two identical wrong answers cannot pass.
    let answers: Vec<Answer> = cases().iter().map(|case| send(warp_run.addr, case)).collect();
    assert_eq!(answers[0].body, b"hello from a wstd service\n");
    assert_eq!(answers[1].body.len(), 64 * 16 * 1024);
    assert!(answers[2].headers.contains(&("x-request-id".into(), "abc-123".into())), "{:?}", answers[2]);
    assert_eq!(answers[3].body, b"body before the trailers");
    assert_eq!(answers[3].trailers, [("x-checksum".into(), "c0ffee".into()), ("x-count".into(), "2".into())]);
    assert_eq!(answers[4].trailers, [("x-trailers".into(), "none".into())]);
    assert_eq!(String::from_utf8_lossy(&answers[5].body).lines().count(), 6);
    assert_eq!(answers.iter().map(|a| a.status).collect::<Vec<_>>()[6..12], [201, 302, 404, 418, 503, 404]);

    // A handler that fails: both answer 500 (each with its own error page).
    let fail = get_case("/fail");
    assert_eq!(send(warp_run.addr, &fail).status, 500);
    assert_eq!(send(reference.addr, &fail).status, 500);

    // A body that fails after the head: neither delivers a complete
    // response. `warp run` first flushes what the guest sent; `wasmtime
    // serve` may drop the connection before the head (an empty reply).
    let fail_body = get_case("/fail-body");
    let ours = send(warp_run.addr, &fail_body);
    assert_eq!((ours.status, ours.body.as_slice(), ours.complete), (200, &b"partial\n"[..], false));
    let theirs = send(reference.addr, &fail_body);
    assert!(!theirs.complete, "{theirs:?}");
}

fn get_case(path: &'static str) -> Case {
    Case { name: path, method: "GET", path, headers: &[], chunks: vec![], trailers: &[] }
}
