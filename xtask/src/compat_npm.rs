//! `cargo xtask compat npm` and `cargo xtask compat bun`: compat-db's npm
//! and Bun records, measured the way the Go ones are (`compat.rs`, whose
//! server, requests and checks this shares). For each package, a small real
//! fetch handler that imports and uses it (its probe, in [`CASES`] and
//! [`BUN_CASES`]) is written to a temporary project, the package is
//! installed (`npm install PACKAGE@latest`, or for Bun `bun add
//! PACKAGE@latest` with warp's pinned bun; its resolved version is what the
//! record names), the project is packed with the real `warp pack` (esbuild,
//! or Bun's bundler with warp's Bun runtime; then ComponentizeJS) and served
//! by the real `warp run`, and its answers over loopback HTTP are compared
//! with what they should be. The verdict is derived from that, never typed:
//!
//! - `fails`: the pack failed (the bundler's first error is the reason,
//!   usually a Node.js built-in the package imports, with every built-in it
//!   imports), the server did not start, a request trapped or was answered
//!   5xx, or an answer was wrong;
//! - `partial`: everything answered as it should, and a probe that opens a
//!   connection to an address the manifest does not list (the database
//!   drivers) got a clean JS error, which is the reason;
//! - `works`: everything answered as it should.
//!
//! Each probe first answers the same requests natively (the machine's
//! `node`, or the real `bun` for Bun, importing `src/index.js`), so a
//! mistake in a probe is an error of this task, not a `fails` of the
//! package. A package that does not work says in its reason what to use
//! instead, when there is a known replacement.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use warp::compat::{Ecosystem, Record, TestedWith, Verdict};
use xshell::{Shell, cmd};

use super::{Expect, Outcome, Request, Response, get, judge, one_line, post, probe_http, short, slug, uuid_answer};

/// How a JS project is written, installed, run natively and packed: as
/// `warp pack --lang ts` packs it (npm, node, esbuild) or as `--lang bun`
/// does (bun, Bun's bundler and warp's Bun runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    Ts,
    Bun,
}

impl Flavor {
    /// The flavor whose records `ecosystem` holds, if it is a JS one.
    pub(super) fn of(ecosystem: Ecosystem) -> Option<Flavor> {
        match ecosystem {
            Ecosystem::Npm => Some(Flavor::Ts),
            Ecosystem::Bun => Some(Flavor::Bun),
            _ => None,
        }
    }

    /// The measured set: for Bun, the npm probes of the packages Bun
    /// services use too ([`BUN_SHARED`]) and Bun's own ([`BUN_CASES`]).
    pub(super) fn cases(self) -> Vec<&'static Case> {
        match self {
            Flavor::Ts => CASES.iter().collect(),
            Flavor::Bun => BUN_SHARED
                .iter()
                .map(|name| CASES.iter().find(|c| c.package == *name).expect("a shared probe is in CASES"))
                .chain(BUN_CASES)
                .collect(),
        }
    }

    /// warp's `--lang` (and `warp doctor --lang`) for the flavor.
    fn lang(self) -> &'static str {
        match self {
            Flavor::Ts => "ts",
            Flavor::Bun => "bun",
        }
    }

    /// What `warp toolchain install` calls the toolchain that packs it.
    fn toolchain(self) -> &'static str {
        match self {
            Flavor::Ts => "js",
            Flavor::Bun => "bun",
        }
    }

    /// What runs the probe natively: the machine's `node`, or warp's pinned `bun`.
    fn native(self) -> Result<PathBuf> {
        match self {
            Flavor::Ts => Ok(PathBuf::from("node")),
            Flavor::Bun => warp::lang::bun::program().context("no pinned bun: run `warp toolchain install bun`"),
        }
    }
}

/// `node v20.20.2, componentize-js 0.23.0, esbuild 0.25.12` (for Bun:
/// `node v20.20.2, bun 1.4.5, componentize-js …`): what packs a JS
/// component, as `warp doctor --lang ts|bun` finds it (the JS toolchain is
/// installed first when it is missing).
pub(super) fn toolchain(sh: &Shell, warp: &Path, flavor: Flavor) -> Result<String> {
    let (lang, toolchain) = (flavor.lang(), flavor.toolchain());
    cmd!(sh, "{warp} toolchain install {toolchain} --quiet").run().context("failed to install the JS toolchain")?;
    let doctor = cmd!(sh, "{warp} doctor --lang {lang} --json").ignore_status().read()?;
    let doctor: serde_json::Value = serde_json::from_str(&doctor).context("`warp doctor --json` printed no JSON")?;
    // Each check by the start of its name, and how its finding is shown.
    let wanted: &[(&str, &str)] = match flavor {
        Flavor::Ts => &[("node", "node "), ("JS toolchain", "")],
        Flavor::Bun => &[("node", "node "), ("bun", "bun "), ("JS toolchain", "")],
    };
    let checks = doctor["checks"].as_array().into_iter().flatten();
    let found: Option<Vec<String>> = wanted
        .iter()
        .map(|(name, label)| {
            let mut checks = checks.clone().filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with(name)));
            checks.find_map(|c| c["found"].as_str().map(|found| format!("{label}{found}")))
        })
        .collect();
    match found {
        Some(found) => Ok(found.join(", ")),
        None => bail!("`warp doctor --lang {lang}` finds no node, bun or JS toolchain:\n{doctor:#}"),
    }
}

/// Installs, checks natively, packs and probes one package.
pub(super) fn measure(
    sh: &Shell,
    flavor: Flavor,
    case: &Case,
    dir: &Path,
    warp: &Path,
    cache: &Path,
    tested: &TestedWith,
) -> Result<Record> {
    let package = case.package;
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("package.json"),
        format!("{{\"name\": \"compat-{}\", \"private\": true, \"type\": \"module\"}}\n", slug(package)),
    )?;
    let lang = flavor.lang();
    std::fs::write(
        dir.join("warp.toml"),
        format!(
            "lang = \"{lang}\"\n\n# Sizes are not what compat measures.\n[budget]\nraw = \"500MB\"\ngzip = \"500MB\"\n"
        ),
    )?;
    if flavor == Flavor::Bun {
        // What marks a Bun project (bunfig.toml), as `warp new --lang bun` writes it.
        std::fs::write(dir.join("bunfig.toml"), "[install]\nexact = true\n")?;
    }
    std::fs::write(dir.join("src/index.js"), INDEX_JS)?;
    std::fs::write(dir.join("src/probe.js"), case.probe_js)?;
    std::fs::write(dir.join("native.mjs"), NATIVE_MJS)?;
    let _dir = sh.push_dir(dir);
    let spec = case.spec.map_or_else(|| format!("{package}@latest"), str::to_string);
    let native = flavor.native()?;
    match flavor {
        Flavor::Ts => cmd!(sh, "npm install --no-audit --no-fund --loglevel=error {spec}"),
        Flavor::Bun => cmd!(sh, "{native} add --no-progress {spec}"),
    }
    .quiet()
    .ignore_stdout()
    .run()
    .with_context(|| format!("installing `{spec}` failed"))?;
    let installed = dir.join("node_modules").join(package).join("package.json");
    let installed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&installed)?)
        .with_context(|| format!("`{}` is not JSON", installed.display()))?;
    let version = installed["version"].as_str().context("the installed package.json names no version")?.to_string();
    // The probe must be right before the package can be judged by it.
    native_check(&native, case, dir).with_context(|| {
        format!("the probe for `{package}` is wrong under {}: fix it in xtask/src/compat_npm.rs", native.display())
    })?;

    let record = |verdict: Verdict, reason: String| {
        let mut reason = one_line(&reason);
        if let (Verdict::Fails | Verdict::Partial, Some(instead)) = (verdict, case.instead) {
            reason.push_str(&format!("; instead: {instead}"));
        }
        Record {
            name: package.to_string(),
            version: version.clone(),
            verdict,
            reason,
            exercised: case.exercised.to_string(),
            tested_with: tested.clone(),
        }
    };
    // The JS toolchain is in warp's own cache: no WARP_CACHE_DIR for the pack.
    let packed = Command::new(warp)
        .current_dir(dir)
        .args(["pack", "--json", "--quiet"])
        .env("NO_COLOR", "1")
        .output()
        .with_context(|| format!("failed to run `{}`", warp.display()))?;
    if !packed.status.success() {
        let output = format!("{}{}", String::from_utf8_lossy(&packed.stderr), String::from_utf8_lossy(&packed.stdout));
        return Ok(record(Verdict::Fails, format!("warp pack: {}", pack_error(&output, dir))));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&packed.stdout).context("`warp pack --json` printed no JSON")?;
    let manifest = Path::new(json["manifest"].as_str().context("no manifest in `warp pack --json`")?);

    Ok(match probe_http(warp, manifest, cache, case.requests, &[])? {
        Outcome::Answered(checked) => record(Verdict::Works, format!("answered as it should: {checked}")),
        Outcome::CleanError(error) => record(
            Verdict::Partial,
            format!("runs; a connection to an address the manifest does not list is a JS error: {error}"),
        ),
        Outcome::Broken(why) => record(Verdict::Fails, why),
    })
}

/// The probe's requests through its handler under `node native.mjs` (or
/// `bun native.mjs`; two minutes at most), each answer judged as the
/// served one will be.
fn native_check(program: &Path, case: &Case, dir: &Path) -> Result<()> {
    let requests: Vec<serde_json::Value> = case
        .requests
        .iter()
        .map(|r| serde_json::json!({ "method": r.method, "path": r.path, "headers": r.headers, "body": r.body }))
        .collect();
    let (out, err) = (dir.join("native.out"), dir.join("native.err"));
    let mut child = Command::new(program)
        .current_dir(dir)
        .arg("native.mjs")
        .arg(serde_json::to_string(&requests)?)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&err)?)
        .spawn()
        .with_context(|| format!("failed to run `{}`", program.display()))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{} native.mjs` did not finish in 2 minutes", program.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (std::fs::read_to_string(&out)?, std::fs::read_to_string(&err)?);
    let answers = stdout.lines().find_map(|line| line.strip_prefix("compat-native: "));
    let Some(answers) = answers.filter(|_| status.success()) else {
        bail!("`{} native.mjs` failed ({status}):\n{stdout}{stderr}", program.display());
    };
    let answers: Vec<serde_json::Value> = serde_json::from_str(answers)?;
    for (request, answer) in case.requests.iter().zip(&answers) {
        let what = format!("{} {}", request.method, request.path);
        let response = Response {
            status: answer["status"].as_u64().unwrap_or_default() as u16,
            body: answer["body"].as_str().unwrap_or_default().as_bytes().to_vec(),
            echo: None,
        };
        if response.status >= 500 {
            bail!("{what}: {} {:?}", response.status, short(&response.text()));
        }
        judge(&what, &request.expect, &response).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// The reason a pack failed: the bundler's first error and where it is
/// (`node_modules/…/file.js:LINE:COLUMN`), with every Node.js built-in
/// the bundle was refused; else the engine's error when it could not take
/// the bundle; else warp's `error:` line and its cause.
fn pack_error(output: &str, dir: &Path) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let errors = bundler_errors(&lines);
    let Some((message, location)) = errors.first() else {
        if let Some(error) = engine_error(&lines, dir) {
            return error;
        }
        let error = lines.iter().find(|l| l.starts_with("error:")).copied();
        let error = error.unwrap_or_else(|| lines.first().copied().unwrap_or("failed with no message"));
        let cause = lines.iter().skip_while(|l| !l.starts_with("Caused by:")).nth(1).map(|l| l.trim());
        return match cause {
            Some(cause) => format!("{} ({cause})", error.trim()),
            None => error.trim().to_string(),
        };
    };
    let mut reason = message.clone();
    if let Some(location) = location {
        reason.push_str(&format!(" ({location})"));
    }
    let mut builtins: Vec<String> = errors.iter().filter_map(|(message, _)| builtin_named(message)).collect();
    builtins.sort();
    builtins.dedup();
    if builtins.len() > 1 {
        reason.push_str(&format!("; the Node.js built-ins it imports: {}", builtins.join(", ")));
    } else if errors.len() > 1 {
        reason.push_str(&format!(" (and {} more errors)", errors.len() - 1));
    }
    reason
}

/// The bundler's errors, each with where it is: esbuild's (`✘ [ERROR]
/// MESSAGE`, the place on a line after it) in esbuild's order, else Bun's
/// and warp-bun.mjs's (`error: FILE:LINE:COLUMN: MESSAGE`) by place, as
/// Bun's bundler reports them in no fixed order.
fn bundler_errors(lines: &[&str]) -> Vec<(String, Option<String>)> {
    let esbuild: Vec<(String, Option<String>)> = (0..lines.len())
        .filter(|&i| lines[i].contains("[ERROR] "))
        .map(|i| {
            let text = &lines[i][lines[i].find("[ERROR] ").expect("an error line") + "[ERROR] ".len()..];
            let message = text.trim_end().trim_end_matches("[plugin warp]").trim_end().to_string();
            let location = lines[i + 1..].iter().map(|l| l.trim()).find(|l| !l.is_empty()).filter(|l| l.ends_with(':'));
            (message, location.map(|l| l.trim_end_matches(':').to_string()))
        })
        .collect();
    if !esbuild.is_empty() {
        return esbuild;
    }
    let mut located: Vec<((String, u32, u32), String)> = lines
        .iter()
        .filter_map(|line| {
            let (place, message) = line.strip_prefix("error: ")?.split_once(": ")?;
            let mut parts = place.rsplitn(3, ':');
            let column = parts.next()?.parse().ok()?;
            let line = parts.next()?.parse().ok()?;
            Some(((parts.next()?.to_string(), line, column), message.trim().to_string()))
        })
        .collect();
    located.sort();
    located.dedup();
    located
        .into_iter()
        .map(|((file, line, column), message)| (message, Some(format!("{file}:{line}:{column}"))))
        .collect()
}

/// The Node.js built-in a bundler error refuses: esbuild's through warp
/// (`` `node:fs` is a Node.js built-in module ``) or Bun's (`Browser build
/// cannot require() Node.js module: "tls"`).
fn builtin_named(message: &str) -> Option<String> {
    let name = if message.contains("is a Node.js built-in module") {
        message.split('`').nth(1)?
    } else {
        message.split_once("Node.js module: \"")?.1.split('"').next()?
    };
    Some(name.trim_start_matches("node:").to_string())
}

/// ComponentizeJS's error when the engine rejected the bundle at build
/// time (`app.js:LINE:COLUMN SyntaxError: …`, then the source fragment on
/// lines with the same place), with the module of the bundle that line is
/// in (esbuild names each one in a `// node_modules/…` comment).
fn engine_error(lines: &[&str], dir: &Path) -> Option<String> {
    let at = lines.iter().position(|l| l.starts_with("app.js:") && l.contains("Error"))?;
    let (place, message) = lines[at].split_once(' ')?;
    let fragment: Vec<&str> = lines[at + 1..]
        .iter()
        .map_while(|l| l.strip_prefix(place).map(str::trim))
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '.' || c == '^'))
        .collect();
    let line: usize = place.split(':').nth(1)?.parse().ok()?;
    let bundle = std::fs::read_to_string(dir.join("target/warp/js/app.js")).unwrap_or_default();
    let module = bundle
        .lines()
        .take(line)
        .filter_map(|l| l.trim().strip_prefix("// "))
        .filter(|path| !path.contains(' ') && (path.starts_with("node_modules/") || path.starts_with("src/")))
        .last();
    let place = match module {
        Some(module) => format!("{module}, {place}"),
        None => place.to_string(),
    };
    Some(format!("the engine rejected the bundle: {} {} ({place})", message.trim(), fragment.join(" ")))
}

/// The prelude's line when the app's top level or its handler threw
/// (`warp: the handler threw: …`), with the first line after it.
pub(super) fn prelude_error(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("warp: the "))?;
    Some(match lines.get(at + 1).map(|l| l.trim()).filter(|l| !l.is_empty()) {
        Some(next) => format!("{} {next}", lines[at]),
        None => lines[at].to_string(),
    })
}

/// Every probe's `src/index.js`: its handler (`src/probe.js`), loaded on
/// the first request, so that an error of its top level or of its handler
/// is answered as a 500 with the error's message (StarlingMonkey's
/// `error.stack`, which the prelude prints, has none).
const INDEX_JS: &str = r#"let probe = null;

export default {
  async fetch(request) {
    try {
      probe ??= import('./probe.js');
      return await (await probe).default.fetch(request);
    } catch (error) {
      return new Response(`threw ${error}`, { status: 500 });
    }
  },
};
"#;

/// The probe under plain Node.js: each request (argv[2], JSON) through
/// `src/index.js`, the answers as one JSON line.
const NATIVE_MJS: &str = r#"import app from './src/index.js';

const answers = [];
for (const { method, path, headers, body } of JSON.parse(process.argv[2])) {
  const request = new Request(new URL(path, 'http://compat.test'), {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
  });
  const response = await app.fetch(request);
  answers.push({ status: response.status, body: await response.text() });
}
console.log(`compat-native: ${JSON.stringify(answers)}`);
process.exit(0);
"#;

/// One package's probe: the handler and what it must answer.
pub(super) struct Case {
    /// What the record names, and `npm install` gets at `latest`.
    pub(super) package: &'static str,
    /// What `npm install` gets instead of `PACKAGE@latest`, and why.
    spec: Option<&'static str>,
    exercised: &'static str,
    /// `src/probe.js`: `export default { async fetch(request) { … } }`.
    probe_js: &'static str,
    requests: &'static [Request],
    /// What to use instead, added to the reason when it is not `works`.
    instead: Option<&'static str>,
}

const fn post_json(path: &'static str, body: &'static str, expect: Expect) -> Request {
    Request { method: "POST", path, headers: &[("Content-Type", "application/json")], body, expect }
}

/// The answer of `/id`: a 21-character URL-safe nanoid, then an 8-digit code.
fn nanoid_answer(status: u16, body: &str) -> std::result::Result<(), String> {
    let expected = "200, a 21-character nanoid of A-Za-z0-9_- then 8 digits".to_string();
    let mut lines = body.lines();
    let (Some(id), Some(code)) = (lines.next(), lines.next()) else { return Err(expected) };
    let id_ok = id.len() == 21 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let code_ok = code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit());
    if status == 200 && id_ok && code_ok { Ok(()) } else { Err(expected) }
}

const USER_OK: &str = r#"{"name":"Ada","email":"ada@example.com","age":36}"#;
const USER_BAD: &str = r#"{"name":"","email":"nope","age":7}"#;

const ORDERS: &str = r#"[{"customer":"b","total":5,"status":"paid"},{"customer":"a","total":3,"status":"open"},{"customer":"b","total":1,"status":"paid"},{"customer":"c","total":6,"status":"paid"}]"#;

/// The orders' totals per customer, ranked (lodash and lodash-es).
const RANKED_TOTALS: &[Request] = &[post_json(
    "/totals",
    ORDERS,
    Expect::Answer(200, r#"[{"customer":"b","total":6},{"customer":"c","total":6},{"customer":"a","total":3}]"#),
)];

/// The HS256 token of `{"iat":1700000000,"sub":"alice"}` signed with
/// `compat-secret` (the same bytes as the Go record's golang-jwt token).
const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsInN1YiI6ImFsaWNlIn0.\
                     1o9krzm8xJ5GEihCVw9yL-DleHhCfXlrrB_YGyUo9rc\nsub=alice";

const PASSWORD_HASH: &[Request] =
    &[post("/hash", "correct horse", Expect::Answer(200, "$2b$04$\nmatch=true wrong=false"))];

/// What a Postgres driver's app uses instead (pg, postgres).
const PG_INSTEAD: &str =
    "@warpgrid/sdk/pg, a pg-compatible Pool and Client over warp's database proxy ([[shims.database]] in warp.toml)";

const DB_REQUEST: &[Request] = &[get("/db", Expect::CleanError { before: "" })];

/// The measured set: what HTTP services on npm use most (routers,
/// validation, auth, ids, dates, data, query builders, database drivers),
/// and three native addons with their replacements.
pub(super) static CASES: &[Case] = &[
    Case {
        package: "hono",
        spec: None,
        exercised: "a hono app as the handler: GET /items/:id with c.req.param and c.req.query, POST /echo with c.req.json (201), hono's 404",
        probe_js: r#"import { Hono } from 'hono';

const app = new Hono();
app.get('/items/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null }));
app.post('/echo', async (c) => c.json({ received: await c.req.json() }, 201));

export default app;
"#,
        requests: &[
            get("/items/abc?q=x", Expect::Answer(200, r#"{"id":"abc","q":"x"}"#)),
            post_json("/echo", r#"{"n":1}"#, Expect::Answer(201, r#"{"received":{"n":1}}"#)),
            get("/nowhere", Expect::Answer(404, "404 Not Found")),
        ],
        instead: None,
    },
    Case {
        package: "itty-router",
        spec: None,
        exercised: "an AutoRouter as the handler: GET /items/:id with params and query, POST /echo of a JSON body, its JSON 404",
        probe_js: r#"import { AutoRouter } from 'itty-router';

const router = AutoRouter();
router.get('/items/:id', ({ params, query }) => ({ id: params.id, q: query.q ?? null }));
router.post('/echo', async (request) => ({ received: await request.json() }));

export default router;
"#,
        requests: &[
            get("/items/abc?q=x", Expect::Answer(200, r#"{"id":"abc","q":"x"}"#)),
            post_json("/echo", r#"{"n":1}"#, Expect::Answer(200, r#"{"received":{"n":1}}"#)),
            get("/nowhere", Expect::Answer(404, r#"{"status":404,"error":"Not Found"}"#)),
        ],
        instead: None,
    },
    Case {
        package: "express",
        spec: None,
        exercised: "an express app (express.json, GET /items/:id, POST /echo) listening on a loopback port the fetch handler forwards each request to: express needs node:http's server",
        probe_js: r#"import express from 'express';

// An express app needs a Node.js HTTP server: it listens on a loopback
// port, and the fetch handler forwards each request to it.
const app = express();
app.use(express.json());
app.get('/items/:id', (req, res) => res.json({ id: req.params.id, q: req.query.q ?? null }));
app.post('/echo', (req, res) => res.status(201).json({ received: req.body }));

let listening = null;
function origin() {
  listening ??= new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
    server.unref();
  });
  return listening;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
    return fetch(`${await origin()}${url.pathname}${url.search}`, { method: request.method, headers: request.headers, body });
  },
};
"#,
        requests: &[
            get("/items/abc?q=x", Expect::Answer(200, r#"{"id":"abc","q":"x"}"#)),
            post_json("/echo", r#"{"n":1}"#, Expect::Answer(201, r#"{"received":{"n":1}}"#)),
        ],
        instead: Some("hono or itty-router (the same routes as a fetch handler)"),
    },
    Case {
        package: "zod",
        spec: None,
        exercised: "z.object (min, email, int, gte, lte) safeParse of a JSON body in a handler: a valid user, and an invalid one answered 422 with each issue's path and code",
        probe_js: r#"import { z } from 'zod';

const User = z.object({
  name: z.string().min(1),
  email: z.email(),
  age: z.number().int().gte(18).lte(130),
});

export default {
  async fetch(request) {
    const result = User.safeParse(await request.json());
    if (!result.success) {
      const issues = result.error.issues.map((issue) => `${issue.path.join('.')}:${issue.code}`);
      return new Response(issues.join(','), { status: 422 });
    }
    return new Response(`valid ${result.data.name}`);
  },
};
"#,
        requests: &[
            post_json("/users", USER_OK, Expect::Answer(200, "valid Ada")),
            post_json("/users", USER_BAD, Expect::Answer(422, "name:too_small,email:invalid_format,age:too_small")),
        ],
        instead: None,
    },
    Case {
        package: "valibot",
        spec: None,
        exercised: "v.object with pipes (minLength, email, integer, minValue, maxValue) safeParse of a JSON body: a valid user, and an invalid one answered 422 with each issue's path and type",
        probe_js: r#"import * as v from 'valibot';

const User = v.object({
  name: v.pipe(v.string(), v.minLength(1)),
  email: v.pipe(v.string(), v.email()),
  age: v.pipe(v.number(), v.integer(), v.minValue(18), v.maxValue(130)),
});

export default {
  async fetch(request) {
    const result = v.safeParse(User, await request.json());
    if (!result.success) {
      const issues = result.issues.map((issue) => `${v.getDotPath(issue)}:${issue.type}`);
      return new Response(issues.join(','), { status: 422 });
    }
    return new Response(`valid ${result.output.name}`);
  },
};
"#,
        requests: &[
            post_json("/users", USER_OK, Expect::Answer(200, "valid Ada")),
            post_json("/users", USER_BAD, Expect::Answer(422, "name:min_length,email:email,age:min_value")),
        ],
        instead: None,
    },
    Case {
        package: "@sinclair/typebox",
        spec: None,
        exercised: "a Type.Object schema checked by TypeCompiler.Compile (generated code) and Value.Check on a JSON body: a valid user, and an invalid one answered 422 with the error paths",
        probe_js: r#"import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

const User = Type.Object({
  name: Type.String({ minLength: 1 }),
  email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' }),
  age: Type.Integer({ minimum: 18, maximum: 130 }),
});
// The compiled checker (generated code), and Value.Check (interpreted).
const compiled = TypeCompiler.Compile(User);

export default {
  async fetch(request) {
    const body = await request.json();
    if (!compiled.Check(body)) {
      const paths = [...new Set([...compiled.Errors(body)].map((error) => error.path))];
      return new Response(`${paths.join(',')} (Value.Check: ${Value.Check(User, body)})`, { status: 422 });
    }
    return new Response(`valid ${body.name} (Value.Check: ${Value.Check(User, body)})`);
  },
};
"#,
        requests: &[
            post_json("/users", USER_OK, Expect::Answer(200, "valid Ada (Value.Check: true)")),
            post_json("/users", USER_BAD, Expect::Answer(422, "/name,/email,/age (Value.Check: false)")),
        ],
        instead: None,
    },
    Case {
        package: "jose",
        spec: None,
        exercised: "an HS256 JWT signed with SignJWT in a handler (checked byte for byte) and verified with jwtVerify (crypto.subtle HMAC)",
        probe_js: r#"import { SignJWT, jwtVerify } from 'jose';

const key = new TextEncoder().encode('compat-secret');

export default {
  async fetch(request) {
    const sub = new URL(request.url).searchParams.get('sub');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(1700000000)
      .setSubject(sub)
      .sign(key);
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    return new Response(`${token}\nsub=${payload.sub}`);
  },
};
"#,
        requests: &[get("/token?sub=alice", Expect::Answer(200, TOKEN))],
        instead: None,
    },
    Case {
        package: "@noble/hashes",
        spec: None,
        exercised: "sha256 and hmac(sha256) of a request body, and scrypt (a password hash), each checked against its published test vector (scrypt: RFC 7914's first)",
        probe_js: r#"import { hmac } from '@noble/hashes/hmac.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export default {
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    const mac = hmac(sha256, new TextEncoder().encode('key'), body);
    // RFC 7914's first scrypt test vector (a password hash, as bcrypt's replacement).
    const derived = scrypt('', '', { N: 16, r: 1, p: 1, dkLen: 64 });
    return new Response(`${bytesToHex(sha256(body))}\n${bytesToHex(mac)}\n${bytesToHex(derived)}`);
  },
};
"#,
        requests: &[post(
            "/hash",
            "The quick brown fox jumps over the lazy dog",
            Expect::Answer(
                200,
                "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592\n\
                 f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8\n\
                 77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
                 fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
            ),
        )],
        instead: None,
    },
    Case {
        package: "nanoid",
        spec: None,
        exercised: "nanoid() and a customAlphabet generator in a handler (crypto.getRandomValues)",
        probe_js: r#"import { customAlphabet, nanoid } from 'nanoid';

const code = customAlphabet('0123456789', 8);

export default {
  async fetch() {
    return new Response(`${nanoid()}\n${code()}`);
  },
};
"#,
        requests: &[get("/id", Expect::Check(nanoid_answer))],
        instead: None,
    },
    Case {
        package: "uuid",
        spec: None,
        exercised: "v5 (name-based, checked against the RFC value) and v4 (random, checked with validate and version) in a handler",
        probe_js: r#"import { v4, v5, validate, version } from 'uuid';

export default {
  async fetch() {
    const random = v4();
    if (!validate(random) || version(random) !== 4) return new Response(`not a v4: ${random}`, { status: 500 });
    return new Response(`${v5('example.com', v5.DNS)}\n${random}`);
  },
};
"#,
        requests: &[get("/uuid", Expect::Check(uuid_answer))],
        instead: None,
    },
    Case {
        package: "date-fns",
        spec: None,
        exercised: "parseISO, addDays, format (weekday name) and differenceInCalendarDays on query parameters, across a leap day",
        probe_js: r#"import { addDays, differenceInCalendarDays, format, parseISO } from 'date-fns';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const due = addDays(parseISO(url.searchParams.get('from')), Number(url.searchParams.get('days')));
    const day = differenceInCalendarDays(due, parseISO('2024-01-01'));
    return new Response(`${format(due, 'yyyy-MM-dd EEEE')}, day ${day} of the year`);
  },
};
"#,
        requests: &[get("/due?from=2024-02-27&days=3", Expect::Answer(200, "2024-03-01 Friday, day 60 of the year"))],
        instead: None,
    },
    Case {
        package: "luxon",
        spec: None,
        exercised: "DateTime in America/New_York converted to Europe/Paris, and plus 3 days across the DST change formatted with the zone's abbreviation (Intl time zone data)",
        probe_js: r#"import { DateTime } from 'luxon';

export default {
  async fetch() {
    const meeting = DateTime.fromISO('2024-03-08T09:30', { zone: 'America/New_York' });
    const paris = meeting.setZone('Europe/Paris').toISO();
    const later = meeting.plus({ days: 3 }).toFormat('cccc d LLLL yyyy, HH:mm ZZZZ');
    return new Response(`${paris}\n${later}`);
  },
};
"#,
        requests: &[get(
            "/meeting",
            Expect::Answer(200, "2024-03-08T15:30:00.000+01:00\nMonday 11 March 2024, 09:30 EDT"),
        )],
        instead: None,
    },
    Case {
        package: "lodash",
        spec: None,
        exercised: "groupBy, mapValues, sumBy, orderBy and pick over a JSON body of orders: totals per customer, ranked",
        probe_js: r#"import _ from 'lodash';

export default {
  async fetch(request) {
    const orders = await request.json();
    const totals = _.mapValues(_.groupBy(orders, 'customer'), (mine) => _.sumBy(mine, 'total'));
    const ranked = _.orderBy(_.toPairs(totals), [1, 0], ['desc', 'asc']);
    return Response.json(ranked.map(([customer, total]) => _.pick({ customer, total, extra: 1 }, ['customer', 'total'])));
  },
};
"#,
        requests: RANKED_TOTALS,
        instead: None,
    },
    Case {
        package: "ramda",
        spec: None,
        exercised: "a pipe of filter(propEq), groupBy, map and sum over a JSON body of orders: the paid total per customer",
        probe_js: r#"import * as R from 'ramda';

const paidTotals = R.pipe(
  R.filter(R.propEq('paid', 'status')),
  R.groupBy(R.prop('customer')),
  R.map(R.pipe(R.map(R.prop('total')), R.sum)),
);

export default {
  async fetch(request) {
    return Response.json(paidTotals(await request.json()));
  },
};
"#,
        requests: &[post_json("/totals", ORDERS, Expect::Answer(200, r#"{"b":6,"c":6}"#))],
        instead: None,
    },
    Case {
        package: "superjson",
        spec: None,
        exercised: "superjson.stringify of a Date, a Set, a BigInt and a Map, and parse back (each value checked)",
        probe_js: r#"import superjson from 'superjson';

export default {
  async fetch() {
    const value = {
      at: new Date(Date.UTC(2024, 1, 29, 12)),
      tags: new Set(['a', 'b']),
      big: 10n ** 20n,
      names: new Map([[1, 'one']]),
    };
    const text = superjson.stringify(value);
    const back = superjson.parse(text);
    const checks = [back.at.toISOString(), [...back.tags].join('+'), back.big + 1n, back.names.get(1)];
    return new Response(`${text}\n${checks.join(' ')}`);
  },
};
"#,
        requests: &[get(
            "/state",
            Expect::Answer(
                200,
                r#"{"json":{"at":"2024-02-29T12:00:00.000Z","tags":["a","b"],"big":"100000000000000000000","names":[[1,"one"]]},"meta":{"values":{"at":["Date"],"tags":["set"],"big":["bigint"],"names":["map"]},"v":1}}
2024-02-29T12:00:00.000Z a+b 100000000000000000001 one"#,
            ),
        )],
        instead: None,
    },
    Case {
        package: "drizzle-orm",
        spec: None,
        exercised: "a pgTable and the pg-core QueryBuilder: select with and(gt, eq) from query parameters, orderBy desc, limit, rendered with toSQL (no driver)",
        probe_js: r#"import { and, desc, eq, gt } from 'drizzle-orm';
import { QueryBuilder, integer, pgTable, serial, text } from 'drizzle-orm/pg-core';

const users = pgTable('users', { id: serial('id').primaryKey(), name: text('name').notNull(), age: integer('age') });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const query = new QueryBuilder()
      .select({ id: users.id, name: users.name })
      .from(users)
      .where(and(gt(users.age, Number(url.searchParams.get('min'))), eq(users.name, url.searchParams.get('name'))))
      .orderBy(desc(users.id))
      .limit(10)
      .toSQL();
    return new Response(`${query.sql}\n${JSON.stringify(query.params)}`);
  },
};
"#,
        requests: &[get(
            "/query?min=18&name=ada",
            Expect::Answer(
                200,
                "select \"id\", \"name\" from \"users\" where (\"users\".\"age\" > $1 and \"users\".\"name\" = $2) \
                 order by \"users\".\"id\" desc limit $3\n[18,\"ada\",10]",
            ),
        )],
        instead: None,
    },
    Case {
        package: "kysely",
        spec: None,
        exercised: "a Kysely instance with the Postgres adapter and compiler and the DummyDriver: a select built from a query parameter, compiled, and executed through the driver pipeline",
        probe_js: r#"import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';

const db = new Kysely({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export default {
  async fetch(request) {
    const min = Number(new URL(request.url).searchParams.get('min'));
    const query = db.selectFrom('users').select(['id', 'name']).where('age', '>', min).orderBy('id', 'desc').limit(10);
    const { sql, parameters } = query.compile();
    const rows = await query.execute();
    return new Response(`${sql}\n${JSON.stringify(parameters)} rows=${rows.length}`);
  },
};
"#,
        requests: &[get(
            "/query?min=18",
            Expect::Answer(
                200,
                "select \"id\", \"name\" from \"users\" where \"age\" > $1 order by \"id\" desc limit $2\n[18,10] rows=0",
            ),
        )],
        instead: None,
    },
    Case {
        package: "pg",
        spec: None,
        exercised: "a pg.Pool query in a handler to postgres://127.0.0.1:1 (not a listed database endpoint); the error is reported",
        probe_js: r#"import pg from 'pg';

const pool = new pg.Pool({
  connectionString: 'postgres://compat:secret@127.0.0.1:1/compat',
  connectionTimeoutMillis: 3000,
  max: 1,
});

export default {
  async fetch() {
    try {
      const { rows } = await pool.query('select 1 as one');
      return new Response(`connected: ${rows[0].one}`);
    } catch (error) {
      return new Response(`error: ${error.message}`);
    }
  },
};
"#,
        requests: DB_REQUEST,
        instead: Some(PG_INSTEAD),
    },
    Case {
        package: "ioredis",
        spec: None,
        exercised: "a Redis client connecting and INCR in a handler to 127.0.0.1:1 (not a listed database endpoint); the error is reported",
        probe_js: r#"import Redis from 'ioredis';

const redis = new Redis({
  host: '127.0.0.1',
  port: 1,
  lazyConnect: true,
  connectTimeout: 3000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
});
let cause = null;
redis.on('error', (error) => {
  cause = error;
});

export default {
  async fetch() {
    try {
      await redis.connect();
      const hits = await redis.incr('compat:hits');
      return new Response(`connected: ${hits}`);
    } catch (error) {
      return new Response(`error: ${error.message}${cause ? ` (${cause.message})` : ''}`);
    }
  },
};
"#,
        requests: DB_REQUEST,
        instead: Some(
            "database.connect({ protocol: 'redis', … }) from @warpgrid/sdk, a byte stream to Redis through warp's database proxy",
        ),
    },
    Case {
        package: "cookie",
        spec: None,
        exercised: "parseCookie of the request's Cookie header (with a percent-encoded value) and stringifySetCookie of a session cookie (Max-Age, Path, HttpOnly, SameSite) set on the answer",
        probe_js: r#"import { parseCookie, stringifySetCookie } from 'cookie';

export default {
  async fetch(request) {
    const cookies = parseCookie(request.headers.get('cookie') ?? '');
    const next = stringifySetCookie({
      name: 'session',
      value: 'xyz 789',
      httpOnly: true,
      path: '/',
      maxAge: 3600,
      sameSite: 'lax',
    });
    return new Response(`theme=${cookies.theme} session=${cookies.session}\n${next}`, {
      headers: { 'set-cookie': next },
    });
  },
};
"#,
        requests: &[Request {
            method: "GET",
            path: "/session",
            headers: &[("Cookie", "theme=dark; session=abc%20123")],
            body: "",
            expect: Expect::Answer(
                200,
                "theme=dark session=abc 123\nsession=xyz%20789; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax",
            ),
        }],
        instead: None,
    },
    Case {
        package: "fast-json-stringify",
        spec: None,
        exercised: "a serializer compiled from a JSON schema (generated code, ajv), answering an object with an escaped string and a property the schema drops",
        probe_js: r#"import fastJson from 'fast-json-stringify';

const stringify = fastJson({
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['id'],
});

export default {
  async fetch() {
    return new Response(stringify({ id: 7, name: 'Ada "the first"', tags: ['a'], secret: 'not in the schema' }), {
      headers: { 'content-type': 'application/json' },
    });
  },
};
"#,
        requests: &[get("/user", Expect::Answer(200, r#"{"id":7,"name":"Ada \"the first\"","tags":["a"]}"#))],
        instead: None,
    },
    Case {
        package: "bcryptjs",
        spec: None,
        exercised: "bcrypt.hash (cost 4) of a request body, then compare with it and with a wrong password",
        probe_js: r#"import bcrypt from 'bcryptjs';

export default {
  async fetch(request) {
    const password = await request.text();
    const hash = await bcrypt.hash(password, 4);
    const match = await bcrypt.compare(password, hash);
    const wrong = await bcrypt.compare('wrong', hash);
    return new Response(`${hash.slice(0, 7)}\nmatch=${match} wrong=${wrong}`);
  },
};
"#,
        requests: PASSWORD_HASH,
        instead: None,
    },
    Case {
        package: "bcrypt",
        spec: None,
        exercised: "bcrypt.hash (cost 4) of a request body, then compare with it and with a wrong password (a native addon)",
        probe_js: r#"import bcrypt from 'bcrypt';

export default {
  async fetch(request) {
    const password = await request.text();
    const hash = await bcrypt.hash(password, 4);
    const match = await bcrypt.compare(password, hash);
    const wrong = await bcrypt.compare('wrong', hash);
    return new Response(`${hash.slice(0, 7)}\nmatch=${match} wrong=${wrong}`);
  },
};
"#,
        requests: PASSWORD_HASH,
        instead: Some("bcryptjs (pure JS, the same hashes; its record checks it), or scrypt from @noble/hashes"),
    },
    Case {
        package: "better-sqlite3",
        // 13 needs Node.js 22 (it crashes on 20), and the probe is first run under the machine's node.
        spec: Some("better-sqlite3@12"),
        exercised: "an in-memory database: create table at the top level, a prepared insert of the request body and a count in a handler (a native addon; 12.x, as 13 needs Node.js 22)",
        probe_js: r#"import Database from 'better-sqlite3';

const db = new Database(':memory:');
db.exec('create table notes (id integer primary key, body text not null)');
const insert = db.prepare('insert into notes (body) values (?)');
const count = db.prepare('select count(*) as n from notes');

export default {
  async fetch(request) {
    const { lastInsertRowid } = insert.run(await request.text());
    return new Response(`note ${lastInsertRowid} of ${count.get().n}`);
  },
};
"#,
        requests: &[post("/notes", "first", Expect::Answer(200, "note 1 of 1"))],
        instead: Some(
            "a database server reached through @warpgrid/sdk (@warpgrid/sdk/pg for Postgres, over warp's database proxy)",
        ),
    },
    Case {
        package: "sharp",
        spec: None,
        exercised: "a 4×2 image created, resized to 2×1 and encoded as PNG, then its metadata read back (a native addon: libvips)",
        probe_js: r#"import sharp from 'sharp';

export default {
  async fetch() {
    const red = { create: { width: 4, height: 2, channels: 3, background: '#ff0000' } };
    const thumbnail = await sharp(red).resize(2, 1).png().toBuffer();
    const { format, width, height } = await sharp(thumbnail).metadata();
    return new Response(`${format} ${width}x${height}`);
  },
};
"#,
        requests: &[get("/thumb", Expect::Answer(200, "png 2x1"))],
        instead: Some(
            "an image service outside the component (called with fetch), or an image library compiled to WebAssembly",
        ),
    },
];

/// The Bun set's packages whose npm probe (in [`CASES`]) is theirs too: the
/// same handler, packed by `--lang bun` and checked under the real bun.
const BUN_SHARED: [&str; 14] = [
    "hono",
    "zod",
    "valibot",
    "@sinclair/typebox",
    "jose",
    "@noble/hashes",
    "nanoid",
    "uuid",
    "date-fns",
    "superjson",
    "drizzle-orm",
    "kysely",
    "cookie",
    "ioredis",
];

/// The rest of the Bun set: what Bun services use that the npm set has
/// not (Bun's own framework, the Node-first packages Bun runs natively,
/// porsager's postgres), each probe checked under the real bun.
static BUN_CASES: &[Case] = &[
    Case {
        package: "elysia",
        spec: None,
        exercised: "an Elysia app as the handler: GET /items/:id with params and query, POST /echo of a JSON body validated by a t.Object schema (201, and 422 for a wrong type), Elysia's 404",
        probe_js: r#"import { Elysia, t } from 'elysia';

const app = new Elysia()
  .get('/items/:id', ({ params, query }) => ({ id: params.id, q: query.q ?? null }))
  .post(
    '/echo',
    ({ body, set }) => {
      set.status = 201;
      return { received: body };
    },
    { body: t.Object({ n: t.Number() }) },
  );

export default app;
"#,
        requests: &[
            get("/items/abc?q=x", Expect::Answer(200, r#"{"id":"abc","q":"x"}"#)),
            post_json("/echo", r#"{"n":1}"#, Expect::Answer(201, r#"{"received":{"n":1}}"#)),
            post_json("/echo", r#"{"n":"x"}"#, Expect::Contains(422, &[r#""validation""#, r#""/n""#])),
            get("/nowhere", Expect::Answer(404, "NOT_FOUND")),
        ],
        instead: None,
    },
    Case {
        package: "jsonwebtoken",
        spec: None,
        exercised: "an HS256 JWT signed with jwt.sign in a handler (checked byte for byte, the same token as jose's record) and verified with jwt.verify (Node's crypto API)",
        probe_js: r#"import jwt from 'jsonwebtoken';

const key = 'compat-secret';

export default {
  async fetch(request) {
    const sub = new URL(request.url).searchParams.get('sub');
    const token = jwt.sign({ iat: 1700000000, sub }, key, { algorithm: 'HS256' });
    const payload = jwt.verify(token, key, { algorithms: ['HS256'] });
    return new Response(`${token}\nsub=${payload.sub}`);
  },
};
"#,
        requests: &[get("/token?sub=alice", Expect::Answer(200, TOKEN))],
        instead: Some("jose (Web Crypto; its record checks the same token)"),
    },
    Case {
        package: "dayjs",
        spec: None,
        exercised: "dayjs with the utc plugin: parse a query parameter, add days across a leap day, format with the weekday name, diff in days and startOf('month')",
        probe_js: r#"import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';

dayjs.extend(utc);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const due = dayjs.utc(url.searchParams.get('from')).add(Number(url.searchParams.get('days')), 'day');
    const day = due.diff(dayjs.utc('2024-01-01'), 'day');
    return new Response(`${due.format('YYYY-MM-DD dddd')}, day ${day} of the year, ${due.startOf('month').toISOString()}`);
  },
};
"#,
        requests: &[get(
            "/due?from=2024-02-27&days=3",
            Expect::Answer(200, "2024-03-01 Friday, day 60 of the year, 2024-03-01T00:00:00.000Z"),
        )],
        instead: None,
    },
    Case {
        package: "lodash-es",
        spec: None,
        exercised: "groupBy, mapValues, sumBy, orderBy, toPairs and pick (named ES module imports) over a JSON body of orders: totals per customer, ranked",
        probe_js: r#"import { groupBy, mapValues, orderBy, pick, sumBy, toPairs } from 'lodash-es';

export default {
  async fetch(request) {
    const orders = await request.json();
    const totals = mapValues(groupBy(orders, 'customer'), (mine) => sumBy(mine, 'total'));
    const ranked = orderBy(toPairs(totals), [1, 0], ['desc', 'asc']);
    return Response.json(ranked.map(([customer, total]) => pick({ customer, total, extra: 1 }, ['customer', 'total'])));
  },
};
"#,
        requests: RANKED_TOTALS,
        instead: None,
    },
    Case {
        package: "pino",
        spec: None,
        exercised: "a pino logger (a child with a field) writing one JSON line to a destination stream in a handler, answered back: level, field and message",
        probe_js: r#"import pino from 'pino';

export default {
  async fetch(request) {
    const lines = [];
    // The destination stream (Node's build), and `browser.write` (the build bundlers pick for the web).
    const logger = pino(
      { base: { service: 'compat' }, timestamp: false, browser: { asObject: true, write: (o) => lines.push(JSON.stringify(o)) } },
      { write: (line) => lines.push(line.trim()) },
    );
    logger.child({ path: new URL(request.url).pathname }).info('compat pino line');
    return new Response(lines.join('\n'));
  },
};
"#,
        requests: &[get(
            "/hello",
            Expect::Contains(200, &[r#""level":30"#, r#""path":"/hello""#, r#""msg":"compat pino line""#]),
        )],
        instead: None,
    },
    Case {
        package: "postgres",
        spec: None,
        exercised: "a postgres (porsager) tagged-template query in a handler to postgres://127.0.0.1:1 (not a listed database endpoint); the error is reported",
        probe_js: r#"import postgres from 'postgres';

const sql = postgres('postgres://compat:secret@127.0.0.1:1/compat', { connect_timeout: 3, max: 1 });

export default {
  async fetch() {
    try {
      const [row] = await sql`select 1 as one`;
      return new Response(`connected: ${row.one}`);
    } catch (error) {
      return new Response(`error: ${error.message}`);
    }
  },
};
"#,
        requests: DB_REQUEST,
        instead: Some(PG_INSTEAD),
    },
];
