use super::*;

fn record(name: &str, verdict: Verdict) -> Record {
    Record {
        name: name.into(),
        version: "v1.0.0".into(),
        verdict,
        reason: format!("{} on purpose", verdict.name()),
        exercised: "a test".into(),
        tested_with: TestedWith { warp: "0.1.0".into(), toolchain: "go1.26.8".into(), date: "2026-12-01".into() },
    }
}

fn db(records: Vec<Record>) -> Db {
    let mut db = Db::new(Ecosystem::Go);
    db.merge(records);
    db
}

#[test]
fn a_db_round_trips_sorted_and_merges_by_name() {
    let mut db = db(vec![record("b.example/x", Verdict::Works), record("a.example/y", Verdict::Fails)]);
    let text = db.to_text();
    assert!(text.ends_with("}\n"));
    assert!(text.find("a.example/y").unwrap() < text.find("b.example/x").unwrap(), "sorted by name:\n{text}");
    assert_eq!(Db::parse(&text, "go.json").unwrap(), db);
    assert!(text.contains("\"verdict\": \"fails\"") && text.contains("\"ecosystem\": \"go\""), "{text}");
    assert!(text.contains("\"refresh\": \"cargo xtask compat go\""), "{text}");

    db.merge([record("b.example/x", Verdict::Partial)]);
    assert_eq!(db.packages.len(), 2);
    assert_eq!(db.get("b.example/x").unwrap().verdict, Verdict::Partial);
}

#[test]
fn a_newer_schema_is_refused_with_its_number() {
    let text = db(vec![]).to_text().replace("\"schema\": 1", "\"schema\": 7");
    let error = Db::parse(&text, "compat-db/go.json").unwrap_err();
    assert!(error.to_string().contains("schema 7; this warp reads schema 1"), "{error:#}");
    assert_eq!(crate::error::exit_for(&error), crate::error::Exit::Environment);
}

/// The records built into this binary for `ecosystem`: at least 20, each
/// with a one-line reason, and the committed file in canonical form.
fn embedded_and_whole(ecosystem: Ecosystem) -> Db {
    let path = ecosystem.db_path();
    let db = Db::embedded(ecosystem).unwrap().unwrap_or_else(|| panic!("{path} is embedded"));
    assert_eq!(db.ecosystem, ecosystem);
    assert_eq!(db.refresh, format!("cargo xtask compat {}", ecosystem.name()));
    assert!(db.packages.len() >= 20, "{} records in {path}", db.packages.len());
    for record in &db.packages {
        assert!(!record.reason.is_empty() && !record.reason.contains('\n'), "one-line reason: {record:?}");
    }
    let on_disk = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&path)).unwrap();
    assert_eq!(db.to_text(), on_disk, "the committed {path} is in canonical form");
    db
}

#[test]
fn the_embedded_go_records_parse_and_are_whole() {
    for record in &embedded_and_whole(Ecosystem::Go).packages {
        assert!(record.version.starts_with('v'), "{record:?}");
        assert!(record.tested_with.toolchain.starts_with("go1."), "{record:?}");
    }
}

#[test]
fn analyze_looks_each_requirement_up() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("go.mod"),
        "module m\n\nrequire (\n\ta.example/works v1.2.0\n\tb.example/fails v1.0.0 // indirect\n\tc.example/new v0.1.0\n)\n",
    )
    .unwrap();
    let records = db(vec![record("a.example/works", Verdict::Works), record("b.example/fails", Verdict::Fails)]);
    let analysis = analyze(temp.path(), |_| Ok(Some(records.clone()))).unwrap();
    let verdicts: Vec<(&str, &str, bool)> = analysis.reports[0]
        .dependencies
        .iter()
        .map(|f| (f.dependency.name.as_str(), f.verdict_name(), f.dependency.indirect))
        .collect();
    assert_eq!(
        verdicts,
        [("a.example/works", "works", false), ("b.example/fails", "fails", true), ("c.example/new", "unknown", false)]
    );
    assert_eq!(analysis.failing().len(), 1);
    assert_eq!(analysis.counts()["unknown"], 1);
    assert!(analysis.not_read.is_empty());

    // The file itself can be named, and a Cargo.lock beside it is noted as not read.
    std::fs::write(temp.path().join("Cargo.lock"), "version = 4\n").unwrap();
    let analysis = analyze(temp.path(), |_| Ok(Some(records.clone()))).unwrap();
    assert_eq!(analysis.not_read, [temp.path().join("Cargo.lock")]);
    let named = analyze(&temp.path().join("go.mod"), |_| Ok(None)).unwrap();
    assert_eq!(named.reports[0].known_packages, 0);
    assert!(named.not_read.is_empty());
}

#[test]
fn the_embedded_npm_records_parse_and_are_whole() {
    let npm = embedded_and_whole(Ecosystem::Npm);
    for record in &npm.packages {
        assert!(record.version.starts_with(|c: char| c.is_ascii_digit()), "a resolved version: {record:?}");
        assert!(record.tested_with.toolchain.starts_with("node v"), "{record:?}");
    }
    for native in ["bcrypt", "better-sqlite3", "sharp"] {
        let record = npm.get(native).unwrap_or_else(|| panic!("{native} is measured"));
        assert!(record.reason.contains("instead: "), "a native addon's record names its replacement: {record:?}");
    }
}

#[test]
fn analyze_reads_package_json_dependencies_and_lists_dev_dependencies() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("package.json"),
        "{\n  \"name\": \"shop\",\n  \"dependencies\": {\n    \"hono\": \"^4.13.0\",\n    \"express\": \"^5.0.0\",\n    \"left-pad\": \"1.3.0\"\n  },\n  \"devDependencies\": { \"express\": \"^5.0.0\", \"typescript\": \"^5.9.0\" }\n}\n",
    )
    .unwrap();
    let mut records = Db::new(Ecosystem::Npm);
    records.merge([record("hono", Verdict::Works), record("express", Verdict::Fails)]);
    let analysis = analyze(temp.path(), |ecosystem| {
        assert_eq!(ecosystem, Ecosystem::Npm, "package.json is looked up in the npm records");
        Ok(Some(records.clone()))
    })
    .unwrap();
    let report = &analysis.reports[0];
    assert_eq!(report.ecosystem, Ecosystem::Npm);
    assert_eq!(report.known_packages, 2);
    let verdicts: Vec<(&str, &str, &str, usize)> = report
        .dependencies
        .iter()
        .map(|f| (f.dependency.name.as_str(), f.dependency.version.as_str(), f.verdict_name(), f.dependency.line))
        .collect();
    assert_eq!(
        verdicts,
        [("hono", "^4.13.0", "works", 4), ("express", "^5.0.0", "fails", 5), ("left-pad", "1.3.0", "unknown", 6)]
    );
    // A devDependency is not looked up, even one recorded as failing.
    let skipped = report.skipped.as_ref().unwrap();
    assert_eq!(skipped.what, "devDependencies");
    assert_eq!(skipped.names, ["express", "typescript"]);
    assert_eq!(analysis.failing().len(), 1);
    assert_eq!(analysis.counts()["works"], 1);

    // Beside a go.mod: both are read, go.mod first, each against its own records.
    std::fs::write(temp.path().join("go.mod"), "module m\nrequire a.example/x v1.0.0\n").unwrap();
    let analysis = analyze(temp.path(), |_| Ok(None)).unwrap();
    let read: Vec<(Ecosystem, usize)> = analysis.reports.iter().map(|r| (r.ecosystem, r.dependencies.len())).collect();
    assert_eq!(read, [(Ecosystem::Go, 1), (Ecosystem::Npm, 3)]);
    assert!(analysis.not_read.is_empty());
}

#[test]
fn an_unread_or_broken_dependency_file_is_an_environment_error() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("Cargo.lock"), "version = 4\n").unwrap();
    let unread = analyze(temp.path(), |_| Ok(None)).unwrap_err();
    assert!(unread.to_string().contains("Cargo.lock` is not read yet"), "{unread}");
    assert!(unread.to_string().contains("reads `go.mod` and `package.json` so far"), "{unread}");
    assert_eq!(crate::error::exit_for(&unread), crate::error::Exit::Environment);

    std::fs::write(temp.path().join("go.mod"), "module m\nrequire broken\n").unwrap();
    let broken = analyze(temp.path(), |_| Ok(None)).unwrap_err();
    assert!(format!("{broken:#}").contains("go.mod`: line 2"), "{broken:#}");

    std::fs::remove_file(temp.path().join("go.mod")).unwrap();
    std::fs::write(temp.path().join("package.json"), "{\"dependencies\": {\"hono\": 4}}").unwrap();
    let broken = analyze(temp.path(), |_| Ok(None)).unwrap_err();
    assert!(format!("{broken:#}").contains("package.json`: `dependencies.hono` is not a version range"), "{broken:#}");
}

#[test]
fn the_embedded_bun_records_parse_and_are_whole() {
    let bun = embedded_and_whole(Ecosystem::Bun);
    for record in &bun.packages {
        assert!(record.version.starts_with(|c: char| c.is_ascii_digit()), "a resolved version: {record:?}");
        let toolchain = &record.tested_with.toolchain;
        assert!(toolchain.starts_with("node v") && toolchain.contains(", bun "), "{record:?}");
    }
    let works = bun.packages.iter().filter(|r| r.verdict == Verdict::Works).count();
    assert!(works >= 14, "the Bun path's bar is 14 of 20 packages working; the records say {works}");
}

#[test]
fn a_bun_projects_package_json_is_looked_up_in_the_bun_records() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::write(dir.join("package.json"), r#"{"dependencies": {"hono": "^4", "ioredis": "^5"}}"#).unwrap();
    let mut npm = Db::new(Ecosystem::Npm);
    npm.merge([record("hono", Verdict::Works), record("ioredis", Verdict::Works)]);
    let mut bun = Db::new(Ecosystem::Bun);
    bun.merge([record("hono", Verdict::Works), record("ioredis", Verdict::Fails)]);
    let records = |ecosystem| {
        Ok(Some(match ecosystem {
            Ecosystem::Bun => bun.clone(),
            _ => npm.clone(),
        }))
    };
    let read = |path: &Path| {
        let analysis = analyze(path, records).unwrap();
        let report = &analysis.reports[0];
        let verdicts: Vec<&str> = report.dependencies.iter().map(Finding::verdict_name).collect();
        (report.ecosystem, verdicts.join(" "))
    };
    // Without a sign of Bun: the npm records.
    assert_eq!(read(dir), (Ecosystem::Npm, "works works".into()));
    // Each thing `warp pack` detects a Bun project by; the file itself named too.
    std::fs::write(dir.join("bunfig.toml"), "[install]\nexact = true\n").unwrap();
    assert_eq!(read(dir), (Ecosystem::Bun, "works fails".into()));
    assert_eq!(read(&dir.join("package.json")), (Ecosystem::Bun, "works fails".into()));
    std::fs::remove_file(dir.join("bunfig.toml")).unwrap();
    std::fs::write(dir.join("bun.lock"), "{}").unwrap();
    assert_eq!(read(dir).0, Ecosystem::Bun);
    std::fs::remove_file(dir.join("bun.lock")).unwrap();
    std::fs::write(
        dir.join("package.json"),
        r#"{"dependencies": {"hono": "^4"}, "devDependencies": {"@types/bun": "1"}}"#,
    )
    .unwrap();
    assert_eq!(read(dir).0, Ecosystem::Bun);
    // warp.toml's `lang` decides, as it does for `warp pack`.
    std::fs::write(dir.join("warp.toml"), "lang = \"ts\"\n").unwrap();
    assert_eq!(read(dir).0, Ecosystem::Npm);
    std::fs::write(dir.join("package.json"), r#"{"dependencies": {"hono": "^4"}}"#).unwrap();
    std::fs::write(dir.join("warp.toml"), "lang = \"bun\"\n").unwrap();
    assert_eq!(read(dir).0, Ecosystem::Bun);
    assert!(is_bun_project(dir));
    // A go.mod beside it keeps its own records.
    std::fs::write(dir.join("go.mod"), "module m\nrequire a.example/x v1.0.0\n").unwrap();
    let analysis = analyze(dir, records).unwrap();
    let ecosystems: Vec<Ecosystem> = analysis.reports.iter().map(|r| r.ecosystem).collect();
    assert_eq!(ecosystems, [Ecosystem::Go, Ecosystem::Bun]);
}
