//! compat-db end to end: `cargo xtask compat go`, `npm` and `bun`
//! measuring a package for real (go get / npm install / bun add, warp
//! pack, warp run, HTTP), and `warp compat analyze` reading a project's
//! go.mod and package.json (a Bun project's against the Bun records)
//! against the records built into the binary.

use std::path::Path;
use std::process::Command;

use crate::support::{repo, run, warp};

tests! {
    xtask_compat_go_measures_a_module_for_real: [Go],
    xtask_compat_npm_measures_packages_for_real: [Js, Npm],
    xtask_compat_bun_measures_packages_for_real: [Bun, Npm],
    analyze_reports_each_requirement_and_fails_on_a_failing_one: [Go],
    analyze_reads_package_json_dependencies_against_the_npm_records: [],
    analyze_reads_a_bun_projects_package_json_against_the_bun_records: [],
    analyze_without_a_dependency_file_it_reads_is_an_environment_error: [],
}

/// `cargo xtask …` as a user runs it, in a user's environment: without
/// the variables cargo sets for a test (`CARGO_PKG_*`, `OUT_DIR`, …),
/// which would make build scripts rerun and rebuild the workspace.
fn cargo_xtask(args: &[&str]) -> Command {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if (key.starts_with("CARGO_") && key != "CARGO_HOME") || key == "OUT_DIR" || key.starts_with("RUSTC") {
            cargo.env_remove(key.as_ref());
        }
    }
    cargo.current_dir(repo()).arg("xtask").args(args);
    cargo
}

/// The committed records of `ecosystem` (`go`, `npm`, `bun`), as the binary under test embeds them.
fn records(ecosystem: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join(format!("compat-db/{ecosystem}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn xtask_compat_go_measures_a_module_for_real() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("go.json");
    // A record of another module already in the file is kept.
    let kept = r#"{"schema":1,"ecosystem":"go","refresh":"cargo xtask compat go","packages":[{"name":"example.com/kept","version":"v1.0.0","verdict":"fails","reason":"kept as it was","exercised":"nothing","tested_with":{"warp":"warp 0.0.0","toolchain":"go1.24.0","date":"2026-01-01"}}]}"#;
    std::fs::write(&out, kept).unwrap();
    let warp_bin = env!("CARGO_BIN_EXE_warp");
    let output = cargo_xtask(&["compat", "go", "--only", "github.com/google/uuid", "--out"])
        .arg(&out)
        .args(["--warp", warp_bin])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo xtask compat go failed:\n{stderr}");

    let db: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(db["schema"], 1);
    assert_eq!(db["ecosystem"], "go");
    let packages = db["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2, "{db:#}");
    assert_eq!(packages[0]["name"], "example.com/kept", "sorted, and the other record kept");
    let uuid = &packages[1];
    assert_eq!(uuid["name"], "github.com/google/uuid");
    assert_eq!(uuid["verdict"], "works", "{uuid:#}\n{stderr}");
    assert!(uuid["reason"].as_str().unwrap().contains("GET /uuid"), "{uuid:#}");
    assert!(uuid["version"].as_str().unwrap().starts_with("v1."), "the resolved version is pinned: {uuid:#}");
    let go = Command::new("go").args(["env", "GOVERSION"]).output().unwrap();
    assert_eq!(uuid["tested_with"]["toolchain"], String::from_utf8_lossy(&go.stdout).trim());
    assert!(uuid["tested_with"]["warp"].as_str().unwrap().starts_with("warp "), "{uuid:#}");
    assert_eq!(uuid["tested_with"]["date"].as_str().unwrap().len(), "2026-12-01".len());
}

/// `cargo xtask compat ECOSYSTEM --only uuid --only FAILING` with the warp
/// under test, into a file that already has a record of another package
/// (whose `tested_with.toolchain` is `toolchain`): the other record kept,
/// uuid working (installed from the registry, packed, served, answered),
/// and the records of uuid and FAILING.
fn uuid_and_one_more_measured_for_real(
    ecosystem: &str,
    failing: &str,
    toolchain: &str,
) -> (serde_json::Value, serde_json::Value) {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join(format!("{ecosystem}.json"));
    let tested_with = serde_json::json!({ "warp": "warp 0.0.0", "toolchain": toolchain, "date": "2026-01-01" });
    let kept = serde_json::json!({
        "schema": 1,
        "ecosystem": ecosystem,
        "refresh": format!("cargo xtask compat {ecosystem}"),
        "packages": [{ "name": "aaa-kept", "version": "1.0.0", "verdict": "fails", "reason": "kept as it was",
                       "exercised": "nothing", "tested_with": tested_with }],
    });
    std::fs::write(&out, kept.to_string()).unwrap();
    let output = cargo_xtask(&["compat", ecosystem, "--only", "uuid", "--only", failing, "--out"])
        .arg(&out)
        .args(["--warp", env!("CARGO_BIN_EXE_warp")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo xtask compat {ecosystem} failed:\n{stderr}");

    let db: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(db["ecosystem"], ecosystem);
    assert_eq!(db["refresh"], format!("cargo xtask compat {ecosystem}"));
    let names: Vec<&str> = db["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["aaa-kept", failing, "uuid"], "sorted, and the other record kept");
    let uuid = &db["packages"][2];
    assert_eq!(uuid["verdict"], "works", "{uuid:#}\n{stderr}");
    assert!(uuid["reason"].as_str().unwrap().contains("GET /uuid"), "{uuid:#}");
    assert!(uuid["version"].as_str().unwrap().starts_with(|c: char| c.is_ascii_digit()), "resolved: {uuid:#}");
    (uuid.clone(), db["packages"][1].clone())
}

/// `uuid` (works) and `express` (fails at the bundle: a Node.js built-in),
/// from the npm registry.
fn xtask_compat_npm_measures_packages_for_real() {
    let (uuid, express) = uuid_and_one_more_measured_for_real("npm", "express", "node v20.0.0");
    let toolchain = uuid["tested_with"]["toolchain"].as_str().unwrap();
    assert!(toolchain.starts_with("node v") && toolchain.contains("componentize-js "), "{uuid:#}");
    assert_eq!(express["verdict"], "fails", "{express:#}");
    let reason = express["reason"].as_str().unwrap();
    assert!(reason.starts_with("warp pack: `") && reason.contains("is a Node.js built-in module"), "{reason}");
    assert!(reason.contains("node_modules/") && reason.contains("instead: hono"), "where, and what to use: {reason}");
}

/// `uuid` (works: `bun add`, packed with `--lang bun`, served, answered)
/// and `ioredis` (fails in Bun's bundler: Node.js built-ins, in warp's
/// words), each probe checked under the real bun first.
fn xtask_compat_bun_measures_packages_for_real() {
    let (uuid, ioredis) =
        uuid_and_one_more_measured_for_real("bun", "ioredis", "node v20.0.0, bun 1.0.0, componentize-js 0.0.0");
    let toolchain = uuid["tested_with"]["toolchain"].as_str().unwrap();
    let bun = Command::new(warp::lang::bun::program().unwrap()).arg("--version").output().unwrap();
    let bun = format!(", bun {}, componentize-js ", String::from_utf8_lossy(&bun.stdout).trim());
    assert!(toolchain.starts_with("node v") && toolchain.contains(&bun), "the pinned bun {bun}: {uuid:#}");
    assert_eq!(ioredis["verdict"], "fails", "{ioredis:#}");
    let reason = ioredis["reason"].as_str().unwrap();
    assert!(reason.starts_with("warp pack: `") && reason.contains("is a Node.js built-in module"), "{reason}");
    assert!(reason.contains("(node_modules/ioredis/"), "where: {reason}");
    assert!(reason.contains("the Node.js built-ins it imports: ") && reason.contains("instead: "), "{reason}");
}

/// A project whose go.mod requires chi, the recorded modules that are not
/// `works`, and one compat-db has never seen.
fn analyze_reports_each_requirement_and_fails_on_a_failing_one() {
    let records = records("go");
    let records = records["packages"].as_array().unwrap();
    let verdict_of = |name: &str| records.iter().find(|r| r["name"] == name).map(|r| r["verdict"].clone());
    assert_eq!(verdict_of("github.com/go-chi/chi/v5"), Some("works".into()), "chi is the Go template's router");
    let failing: Vec<&serde_json::Value> = records.iter().filter(|r| r["verdict"] == "fails").collect();
    let partial: Vec<&serde_json::Value> = records.iter().filter(|r| r["verdict"] == "partial").collect();
    let (Some(failing), Some(partial)) = (failing.first(), partial.first()) else {
        panic!("compat-db/go.json has no `fails` or no `partial` record to analyze against")
    };
    let temp = tempfile::tempdir().unwrap();
    let go_mod = format!(
        "module example.com/shop\n\ngo 1.24\n\nrequire github.com/go-chi/chi/v5 v5.0.0\n\nrequire (\n\t{} {}\n\t{} {} // indirect\n\texample.com/never-measured v0.3.0\n)\n",
        failing["name"].as_str().unwrap(),
        failing["version"].as_str().unwrap(),
        partial["name"].as_str().unwrap(),
        partial["version"].as_str().unwrap(),
    );
    std::fs::write(temp.path().join("go.mod"), &go_mod).unwrap();

    let human = run(warp(temp.path()).args(["compat", "analyze", "."]));
    human.expect_code(1).stderr_has("1 dependency is recorded as failing under WebAssembly");
    let row = |name: &str| human.stdout.lines().find(|l| l.contains(name)).unwrap_or_default().to_string();
    assert!(row("github.com/go-chi/chi/v5").contains(" works "), "{}", human.stdout);
    assert!(row(failing["name"].as_str().unwrap()).contains(" fails "), "{}", human.stdout);
    let partial_row = row(partial["name"].as_str().unwrap());
    assert!(partial_row.contains("(indirect)") && partial_row.contains(" partial "), "{}", human.stdout);
    assert!(partial_row.contains(partial["reason"].as_str().unwrap()), "{}", human.stdout);
    assert!(row("example.com/never-measured").contains(" unknown "), "{}", human.stdout);
    human.stdout_has("1 works, 1 partial, 1 fails, 1 unknown");

    let json = run(warp(temp.path()).args(["compat", "analyze", "--json", "go.mod"]));
    let value = json.expect_code(1).json();
    let found: Vec<(String, String, bool)> = value["reports"][0]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let verdict = d["record"]["verdict"].as_str().unwrap_or("unknown").to_string();
            (d["name"].as_str().unwrap().to_string(), verdict, d["indirect"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("github.com/go-chi/chi/v5".to_string(), "works".to_string(), false),
            (failing["name"].as_str().unwrap().to_string(), "fails".to_string(), false),
            (partial["name"].as_str().unwrap().to_string(), "partial".to_string(), true),
            ("example.com/never-measured".to_string(), "unknown".to_string(), false),
        ]
    );
    assert_eq!(value["counts"]["fails"], 1);
    assert_eq!(value["reports"][0]["dependencies"][0]["version"], "v5.0.0", "the version the project requires");
    assert_eq!(
        value["reports"][0]["dependencies"][0]["record"]["version"],
        verdict_version(records, "github.com/go-chi/chi/v5")
    );

    // Without the failing module: exit 0, and a Cargo.lock beside it is said to be unread.
    std::fs::write(temp.path().join("go.mod"), go_mod.replace(failing["name"].as_str().unwrap(), "example.com/other"))
        .unwrap();
    std::fs::write(temp.path().join("Cargo.lock"), "version = 4\n").unwrap();
    let passing = run(warp(temp.path()).args(["compat", "analyze"]));
    passing.expect_code(0).stderr_has("Cargo.lock` is not read yet").stdout_has("0 fails, 2 unknown");
}

fn verdict_version(records: &[serde_json::Value], name: &str) -> serde_json::Value {
    records.iter().find(|r| r["name"] == name).unwrap()["version"].clone()
}

/// A package.json whose dependencies are hono (the ts template's router), a
/// `fails` package and one compat-db has never seen, with a failing package
/// among its devDependencies, which are not bundled and not looked up.
fn analyze_reads_package_json_dependencies_against_the_npm_records() {
    let records = records("npm");
    let records = records["packages"].as_array().unwrap();
    let verdict_of = |name: &str| records.iter().find(|r| r["name"] == name).map(|r| r["verdict"].clone());
    assert_eq!(verdict_of("hono"), Some("works".into()), "hono is the ts template's router");
    assert_eq!(verdict_of("express"), Some("fails".into()), "express needs node:http");
    let temp = tempfile::tempdir().unwrap();
    let package_json = r#"{
  "name": "shop",
  "private": true,
  "dependencies": {
    "hono": "^4.6.0",
    "express": "^5.1.0",
    "@example/never-measured": "0.3.0"
  },
  "devDependencies": {
    "bcrypt": "^6.0.0",
    "typescript": "^5.9.0"
  }
}
"#;
    std::fs::write(temp.path().join("package.json"), package_json).unwrap();

    let human = run(warp(temp.path()).args(["compat", "analyze", "."]));
    human.expect_code(1).stderr_has("1 dependency is recorded as failing under WebAssembly: `express`");
    human.stdout_has("./package.json (3 dependencies, compat-db holds").stdout_has(" for npm):");
    let row = |name: &str| human.stdout.lines().find(|l| l.contains(name)).unwrap_or_default().to_string();
    assert!(human.stdout.contains("  PACKAGE "), "{}", human.stdout);
    assert!(row("hono").contains(" works ") && row("hono").contains("^4.6.0"), "{}", human.stdout);
    let express = row("express");
    assert!(express.contains(" fails ") && express.contains("node:"), "the reason names the built-in: {express}");
    assert!(row("@example/never-measured").contains(" unknown "), "{}", human.stdout);
    human.stdout_has("not looked up: 2 devDependencies (build and test tools, not bundled): bcrypt, typescript");
    human.stdout_has("1 works, 0 partial, 1 fails, 1 unknown");

    let json = run(warp(temp.path()).args(["compat", "analyze", "--json", "package.json"]));
    let value = json.expect_code(1).json();
    let report = &value["reports"][0];
    assert_eq!(report["ecosystem"], "npm");
    let found: Vec<(String, String, u64)> = report["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let verdict = d["record"]["verdict"].as_str().unwrap_or("unknown").to_string();
            (d["name"].as_str().unwrap().to_string(), verdict, d["line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("hono".to_string(), "works".to_string(), 5),
            ("express".to_string(), "fails".to_string(), 6),
            ("@example/never-measured".to_string(), "unknown".to_string(), 7),
        ]
    );
    assert_eq!(report["skipped"]["what"], "devDependencies");
    assert_eq!(report["skipped"]["names"], serde_json::json!(["bcrypt", "typescript"]));
    assert_eq!(report["dependencies"][0]["record"]["version"], verdict_version(records, "hono"));

    // Without express: exit 0.
    std::fs::write(temp.path().join("package.json"), package_json.replace("\"express\": \"^5.1.0\",\n", "")).unwrap();
    run(warp(temp.path()).args(["compat", "analyze"]))
        .expect_code(0)
        .stdout_has("1 works, 0 partial, 0 fails, 1 unknown");
}

/// A Bun project (bunfig.toml) whose package.json depends on hono, a
/// package the Bun records say `fails` and one compat-db has never seen:
/// looked up in the Bun records, and the same package.json without the
/// bunfig.toml in the npm ones.
fn analyze_reads_a_bun_projects_package_json_against_the_bun_records() {
    let records = records("bun");
    let records = records["packages"].as_array().unwrap();
    let verdict_of = |name: &str| records.iter().find(|r| r["name"] == name).map(|r| r["verdict"].clone());
    assert_eq!(verdict_of("hono"), Some("works".into()), "hono is the bun template's router");
    let Some(failing) = records.iter().find(|r| r["verdict"] == "fails") else {
        panic!("compat-db/bun.json has no `fails` record to analyze against")
    };
    let failing_name = failing["name"].as_str().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let package_json = format!(
        "{{\n  \"name\": \"shop\",\n  \"private\": true,\n  \"dependencies\": {{\n    \"hono\": \"^4.6.0\",\n    \"{failing_name}\": \"*\",\n    \"@example/never-measured\": \"0.3.0\"\n  }},\n  \"devDependencies\": {{ \"@types/bun\": \"latest\" }}\n}}\n"
    );
    std::fs::write(temp.path().join("package.json"), &package_json).unwrap();
    std::fs::write(temp.path().join("bunfig.toml"), "[install]\nexact = true\n").unwrap();

    let human = run(warp(temp.path()).args(["compat", "analyze", "."]));
    human
        .expect_code(1)
        .stderr_has(&format!("1 dependency is recorded as failing under WebAssembly: `{failing_name}`"));
    human.stdout_has("./package.json (3 dependencies, compat-db holds").stdout_has(" for bun):");
    let row = |name: &str| human.stdout.lines().find(|l| l.contains(name)).unwrap_or_default().to_string();
    assert!(row("hono").contains(" works ") && row("hono").contains("^4.6.0"), "{}", human.stdout);
    let failing_row = row(&format!("  {failing_name} "));
    assert!(failing_row.contains(" fails "), "{}", human.stdout);
    assert!(failing_row.contains(failing["reason"].as_str().unwrap()), "the Bun record's reason: {}", human.stdout);
    assert!(row("@example/never-measured").contains(" unknown "), "{}", human.stdout);
    human.stdout_has("not looked up: 1 devDependencies (build and test tools, not bundled): @types/bun");
    human.stdout_has("1 works, 0 partial, 1 fails, 1 unknown");

    let json = run(warp(temp.path()).args(["compat", "analyze", "--json", "package.json"]));
    let value = json.expect_code(1).json();
    let report = &value["reports"][0];
    assert_eq!(report["ecosystem"], "bun");
    assert_eq!(report["known_packages"], records.len());
    let dependencies = report["dependencies"].as_array().unwrap().iter();
    let found: Vec<String> = dependencies
        .map(|d| format!("{} {}", d["name"], d["record"]["verdict"].as_str().unwrap_or("unknown")))
        .collect();
    assert_eq!(
        found,
        [
            "\"hono\" works".to_string(),
            format!("{:?} fails", failing_name),
            "\"@example/never-measured\" unknown".into()
        ]
    );
    assert_eq!(report["dependencies"][1]["record"], *failing, "the Bun record, whole");
    assert_eq!(report["dependencies"][0]["record"]["version"], verdict_version(records, "hono"));

    // `lang = "ts"` in warp.toml packs it with esbuild: the npm records.
    std::fs::write(temp.path().join("warp.toml"), "lang = \"ts\"\n").unwrap();
    let value = run(warp(temp.path()).args(["compat", "analyze", "--json"])).json();
    assert_eq!(value["reports"][0]["ecosystem"], "npm", "{value:#}");
}

fn analyze_without_a_dependency_file_it_reads_is_an_environment_error() {
    let temp = tempfile::tempdir().unwrap();
    run(warp(temp.path()).args(["compat", "analyze", "."]))
        .expect_code(2)
        .stderr_has("error: no `go.mod`, `package.json`, `Cargo.lock` in `.`")
        .stderr_has("help: run `warp compat analyze` on a project directory");
    std::fs::write(temp.path().join("Cargo.lock"), "version = 4\n").unwrap();
    run(warp(temp.path()).args(["compat", "analyze"]))
        .expect_code(2)
        .stderr_has("`./Cargo.lock` is not read yet: `warp compat analyze` reads `go.mod` and `package.json` so far");
    // A package.json without dependencies is read: nothing to look up.
    std::fs::write(temp.path().join("package.json"), "{}").unwrap();
    run(warp(temp.path()).args(["compat", "analyze"]))
        .expect_code(0)
        .stderr_has("`./Cargo.lock` is not read yet")
        .stdout_has("./package.json (0 dependencies, compat-db holds")
        .stdout_has("0 works, 0 partial, 0 fails, 0 unknown");
    std::fs::write(temp.path().join("package.json"), "{\"dependencies\": [\"hono\"]}").unwrap();
    run(warp(temp.path()).args(["compat", "analyze", "package.json"]))
        .expect_code(2)
        .stderr_has("failed to read `package.json`")
        .stderr_has("`dependencies` is not an object");
    run(warp(Path::new("/")).args(["compat", "analyze", "/nonexistent/project"]))
        .expect_code(2)
        .stderr_has("`/nonexistent/project` does not exist");
}
