//! Toolchain forks on git fixtures made here with the real `git`: prepare
//! (clone + one commit per patch), status, rebase (clean, already upstream,
//! conflict with --abort and --continue), export, and bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

tests! {
    prepare_applies_one_commit_per_patch_and_status_shows_it: [],
    a_clean_rebase_rewrites_the_series_and_upstream_ref: [],
    a_patch_upstream_already_has_is_dropped: [],
    a_conflict_stops_touches_nothing_and_aborts_or_continues: [],
    export_turns_commits_in_the_work_tree_into_the_series: [],
    bad_input_is_named: [],
    warp_mirror_dir_redirects_every_upstream: [],
    componentize_js_patches_apply_to_the_published_package: [Npm],
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Upstream Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@upstream.example")
        .env("GIT_COMMITTER_NAME", "Upstream Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@upstream.example")
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05+00:00")
        .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05+00:00")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// An upstream repository, a project with `toolchains/demo.toml` and a
/// two-patch series made against upstream `v1`, and a cache directory.
struct Fixture {
    _temp: tempfile::TempDir,
    upstream: PathBuf,
    project: PathBuf,
    cache: PathBuf,
}

const LIB_V1: &str = "line 1\nline 2\nline 3\nline 4\nline 5\n";

impl Fixture {
    fn new() -> Fixture {
        let temp = tempfile::tempdir().unwrap();
        let upstream = temp.path().join("upstream");
        let project = temp.path().join("project");
        let cache = temp.path().join("cache");
        std::fs::create_dir_all(upstream.join("src")).unwrap();
        git(&upstream, &["init", "-q"]);
        std::fs::write(upstream.join("src/lib.c"), LIB_V1).unwrap();
        std::fs::write(upstream.join("README"), "demo v1\n").unwrap();
        git(&upstream, &["add", "."]);
        git(&upstream, &["commit", "-qm", "v1"]);
        git(&upstream, &["tag", "v1"]);

        // The series, written by a fork maintainer with plain git.
        let work = temp.path().join("work");
        git(temp.path(), &["clone", "-q", upstream.to_str().unwrap(), "work"]);
        std::fs::write(work.join("src/lib.c"), LIB_V1.replace("line 1", "patched 1")).unwrap();
        git(&work, &["commit", "-qam", "lib: patch the first line", "-m", "Because the fork needs it."]);
        std::fs::write(work.join("src/lib.c"), LIB_V1.replace("line 1", "patched 1").replace("line 5", "patched 5"))
            .unwrap();
        std::fs::write(work.join("src/shim.c"), "int shim(void) { return 1; }\n").unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-qm", "shim: add the shim and patch the last line"]);
        std::fs::create_dir_all(project.join("toolchains")).unwrap();
        std::fs::create_dir_all(project.join("patches/demo")).unwrap();
        git(&work, &["format-patch", "-q", "v1", "-o", project.join("patches/demo").to_str().unwrap()]);
        std::fs::write(
            project.join("toolchains/demo.toml"),
            "description = \"a demo fork\"\n[upstream]\ngit = \"https://example.invalid/demo.git\"\nref = \"main\"\n",
        )
        .unwrap();
        let v1 = git(&upstream, &["rev-parse", "v1"]);
        std::fs::write(project.join("patches/demo/UPSTREAM_REF"), format!("{v1}\n")).unwrap();
        Fixture { _temp: temp, upstream, project, cache }
    }

    fn warp(&self, args: &[&str]) -> Run {
        run(warp(&self.project)
            .args(args)
            .args(["--upstream", self.upstream.to_str().unwrap()])
            .env("WARP_CACHE_DIR", &self.cache))
    }

    fn warp_plain(&self, args: &[&str]) -> Run {
        run(warp(&self.project).args(args).env("WARP_CACHE_DIR", &self.cache))
    }

    /// A new upstream release: `edit` changes the tree, then commit + tag.
    fn release(&self, tag: &str, edit: impl FnOnce(&Path)) -> String {
        edit(&self.upstream);
        git(&self.upstream, &["add", "-A"]);
        git(&self.upstream, &["commit", "-qm", tag]);
        git(&self.upstream, &["tag", tag]);
        git(&self.upstream, &["rev-parse", tag])
    }

    fn series(&self) -> BTreeMap<String, String> {
        std::fs::read_dir(self.project.join("patches/demo"))
            .unwrap()
            .flatten()
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
            .collect()
    }

    fn work_tree(&self) -> PathBuf {
        self.cache.join("toolchains/demo")
    }
}

fn lib(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("src/lib.c")).unwrap()
}

fn prepare_applies_one_commit_per_patch_and_status_shows_it() {
    let fx = Fixture::new();
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0).stderr_has("demo: 2 patches on");
    let tree = fx.work_tree();
    assert_eq!(lib(&tree), LIB_V1.replace("line 1", "patched 1").replace("line 5", "patched 5"));
    assert!(tree.join("src/shim.c").is_file());
    let log = git(&tree, &["log", "--format=%s|%an", "refs/warp/base..warp"]);
    assert_eq!(log, "shim: add the shim and patch the last line|Upstream Dev\nlib: patch the first line|Upstream Dev");

    let status = fx.warp_plain(&["toolchain", "status", "demo", "--json"]);
    let status = status.expect_code(0).json();
    assert_eq!(status["patches_applied"], 2);
    assert_eq!(status["base"], git(&fx.upstream, &["rev-parse", "v1"]));
    assert_eq!(status["dirty"], false);

    // Again: nothing to do. With a local edit: refused, then --force.
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0).stderr_has("up to date");
    std::fs::write(tree.join("src/lib.c"), "my experiment\n").unwrap();
    fx.warp_plain(&["toolchain", "status", "demo"]).expect_code(0).stdout_has("dirty");
    fx.warp(&["toolchain", "prepare", "demo"])
        .expect_code(1)
        .stderr_has("has uncommitted changes")
        .stderr_has("--force");
    assert_eq!(lib(&tree), "my experiment\n", "nothing was thrown away");
    fx.warp(&["toolchain", "prepare", "demo", "--force"]).expect_code(0);
    assert!(lib(&tree).starts_with("patched 1"));
}

fn a_clean_rebase_rewrites_the_series_and_upstream_ref() {
    let fx = Fixture::new();
    let before = fx.series();
    let v2 = fx.release("v2", |dir| std::fs::write(dir.join("README"), "demo v2\n").unwrap());
    let rebase = fx.warp(&["rebase", "demo", "--onto", "v2"]);
    rebase.expect_code(0).stdout_has("applied          0001-lib-patch-the-first-line.patch");
    rebase.stdout_has("applied          0002-shim-add-the-shim-and-patch-the-last-line.patch");
    let after = fx.series();
    assert_eq!(after["UPSTREAM_REF"], "v2\n", "a tag names the base");
    fx.warp_plain(&["toolchain", "status", "demo"]).expect_code(0).stdout_has(&format!("base       {}", &v2[..12]));
    assert_eq!(after.len(), 3);
    // Same changes, now against v2: the diffs are unchanged.
    for name in ["0001-lib-patch-the-first-line.patch", "0002-shim-add-the-shim-and-patch-the-last-line.patch"] {
        let diff = |text: &str| text[text.find("diff --git").unwrap()..text.rfind("\n-- \n").unwrap()].to_string();
        assert_eq!(diff(&after[name]), diff(&before[name]), "{name}");
        assert!(after[name].contains("From: Upstream Dev <dev@upstream.example>"), "{}", after[name]);
    }
    // A fresh cache rebuilds the same tree from the rewritten series.
    std::fs::remove_dir_all(&fx.cache).unwrap();
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0);
    assert_eq!(std::fs::read_to_string(fx.work_tree().join("README")).unwrap(), "demo v2\n");
    assert!(lib(&fx.work_tree()).contains("patched 5"));
}

fn a_patch_upstream_already_has_is_dropped() {
    let fx = Fixture::new();
    fx.release("v2", |dir| std::fs::write(dir.join("src/lib.c"), LIB_V1.replace("line 1", "patched 1")).unwrap());
    let rebase = fx.warp(&["rebase", "demo", "--onto", "v2"]);
    rebase.expect_code(0).stdout_has("already upstream 0001-lib-patch-the-first-line.patch (dropped from the series)");
    let after = fx.series();
    let names: Vec<&str> = after.keys().map(String::as_str).collect();
    assert_eq!(names, ["0001-shim-add-the-shim-and-patch-the-last-line.patch", "UPSTREAM_REF"]);
    assert!(after["0001-shim-add-the-shim-and-patch-the-last-line.patch"].contains("Subject: [PATCH] shim"));
}

fn a_conflict_stops_touches_nothing_and_aborts_or_continues() {
    let fx = Fixture::new();
    let before = fx.series();
    let v2 =
        fx.release("v2", |dir| std::fs::write(dir.join("src/lib.c"), LIB_V1.replace("line 5", "upstream 5")).unwrap());
    let rebase = fx.warp(&["rebase", "demo", "--onto", "v2"]);
    rebase.expect_code(1).stdout_has("applied          0001-lib-patch-the-first-line.patch");
    rebase.stdout_has("conflicted       0002-shim-add-the-shim-and-patch-the-last-line.patch");
    rebase.stdout_has("    src/lib.c (lines 5-9)");
    rebase.stderr_has("`patches/demo/` is unchanged").stderr_has("warp rebase demo --continue").stderr_has("--abort");
    assert_eq!(fx.series(), before, "the series is untouched on a conflict");
    assert!(lib(&fx.work_tree()).contains("<<<<<<<"));
    fx.warp_plain(&["toolchain", "status", "demo"]).expect_code(0).stdout_has("rebase in progress");
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(1).stderr_has("a rebase of `demo` is in progress");

    // --abort: back to the series on v1, as if nothing happened.
    fx.warp_plain(&["rebase", "demo", "--abort"]).expect_code(0).stderr_has("Aborted");
    assert_eq!(fx.series(), before);
    assert_eq!(lib(&fx.work_tree()), LIB_V1.replace("line 1", "patched 1").replace("line 5", "patched 5"));
    fx.warp_plain(&["toolchain", "status", "demo"]).expect_code(0).stdout_has("clean");
    fx.warp_plain(&["rebase", "demo", "--abort"]).expect_code(2).stderr_has("no rebase of `demo` is in progress");

    // Again, and this time resolve: markers left in → refused; fixed → done.
    fx.warp(&["rebase", "demo", "--onto", "v2"]).expect_code(1);
    fx.warp_plain(&["rebase", "demo", "--continue"])
        .expect_code(1)
        .stderr_has("conflict markers remain in src/lib.c (lines 5-9)");
    let resolved = LIB_V1.replace("line 1", "patched 1").replace("line 5", "patched 5 over upstream 5");
    std::fs::write(fx.work_tree().join("src/lib.c"), &resolved).unwrap();
    fx.warp_plain(&["rebase", "demo", "--continue"]).expect_code(0).stdout_has("applied          0002-");
    let after = fx.series();
    assert_eq!(after["UPSTREAM_REF"], "v2\n", "a tag names the base");
    fx.warp_plain(&["toolchain", "status", "demo"]).expect_code(0).stdout_has(&format!("base       {}", &v2[..12]));
    assert!(after["0002-shim-add-the-shim-and-patch-the-last-line.patch"].contains("+patched 5 over upstream 5"));
    std::fs::remove_dir_all(&fx.cache).unwrap();
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0);
    assert_eq!(lib(&fx.work_tree()), resolved);
}

fn export_turns_commits_in_the_work_tree_into_the_series() {
    let fx = Fixture::new();
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0);
    let tree = fx.work_tree();
    std::fs::write(tree.join("NOTES"), "fork notes\n").unwrap();
    git(&tree, &["add", "NOTES"]);
    git(&tree, &["commit", "-qm", "docs: fork notes"]);
    fx.warp(&["toolchain", "prepare", "demo"])
        .expect_code(1)
        .stderr_has("has commits that are not in the patch series");
    fx.warp_plain(&["patches", "export", "demo"]).expect_code(0).stdout_has("0003-docs-fork-notes.patch");
    assert!(fx.series()["0003-docs-fork-notes.patch"].contains("+fork notes"));
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0).stderr_has("3 patches");
}

fn bad_input_is_named() {
    let fx = Fixture::new();
    fx.warp(&["toolchain", "prepare", "nope"])
        .expect_code(2)
        .stderr_has("unknown toolchain `nope`")
        .stderr_has("known toolchains: demo");
    std::fs::write(fx.project.join("toolchains/broken.toml"), "[upstream]\ngit = \"x\"\nbranch = \"main\"\n").unwrap();
    fx.warp(&["toolchain", "prepare", "broken"])
        .expect_code(1)
        .stderr_has("invalid recipe")
        .stderr_has("toolchains/broken.toml")
        .stderr_has("unknown field `branch`");
    std::fs::write(
        fx.project.join("patches/demo/0003-touch-a-missing-file.patch"),
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nDate: Tue, 2 Jan 2024 03:04:05 +0000\nSubject: [PATCH] touch a missing file\n\n---\ndiff --git a/src/gone.c b/src/gone.c\nindex 1111111..2222222 100644\n--- a/src/gone.c\n+++ b/src/gone.c\n@@ -1 +1 @@\n-old\n+new\n",
    )
    .unwrap();
    fx.warp(&["toolchain", "prepare", "demo"])
        .expect_code(1)
        .stderr_has("patch `0003-touch-a-missing-file.patch` does not apply")
        .stderr_has("src/gone.c");
    std::fs::remove_file(fx.project.join("patches/demo/0003-touch-a-missing-file.patch")).unwrap();
    // Fixing the series is enough: the failed attempt left nothing behind.
    fx.warp(&["toolchain", "prepare", "demo"]).expect_code(0).stderr_has("demo: 2 patches");
    fx.warp_plain(&["toolchain", "prepare", "demo", "--upstream", "/nonexistent/mirror"])
        .expect_code(2)
        .stderr_has("upstream `/nonexistent/mirror` does not exist");
}

fn warp_mirror_dir_redirects_every_upstream() {
    let fx = Fixture::new();
    let mirrors = fx.upstream.parent().unwrap().join("mirrors");
    std::fs::create_dir_all(&mirrors).unwrap();
    std::os::unix::fs::symlink(&fx.upstream, mirrors.join("demo")).unwrap();
    run(warp(&fx.project)
        .args(["toolchain", "prepare", "demo"])
        .env("WARP_CACHE_DIR", &fx.cache)
        .env("WARP_MIRROR_DIR", &mirrors))
    .expect_code(0)
    .stderr_has("demo: 2 patches");
}

/// The ComponentizeJS series applies to the package as npm publishes it
/// (fetched with `npm pack` from the registry).
fn componentize_js_patches_apply_to_the_published_package() {
    let cache = tempfile::tempdir().unwrap();
    let prepared = run(warp(&repo())
        .args(["toolchain", "prepare", "componentize-js", "--json"])
        .env("WARP_CACHE_DIR", cache.path())
        .env_remove("WARP_MIRROR_DIR"));
    prepared.expect_code(0);
    let json = prepared.json();
    let series = std::fs::read_dir(repo().join("patches/componentize-js"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "patch"))
        .count();
    assert!(series > 0);
    assert_eq!(json["patches"].as_u64().unwrap() as usize, series);
    let tree = PathBuf::from(json["dir"].as_str().unwrap());
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tree.join("package.json")).unwrap()).unwrap();
    assert_eq!(package["name"], "@bytecodealliance/componentize-js");
    assert_eq!(package["version"], "0.23.0");
    let cli = std::fs::read_to_string(tree.join("src/cli.js")).unwrap();
    assert!(cli.contains("process.exit(1)"), "the cli patch is not applied");
    run(warp(&repo()).args(["toolchain", "status", "componentize-js"]).env("WARP_CACHE_DIR", cache.path()))
        .expect_code(0)
        .stdout_has(&format!("{series} applied, {series} in the series"))
        .stdout_has("clean");
}
