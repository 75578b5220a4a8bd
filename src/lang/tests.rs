//! Registration tests: a language is registered whole or not at all.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;

/// The language modules on disk: every `src/lang/*.rs` but this file and `mod.rs`.
fn modules_on_disk() -> BTreeSet<String> {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lang"))
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.strip_suffix(".rs").map(str::to_string))
        .filter(|stem| stem != "mod" && stem != "tests")
        .collect()
}

#[test]
fn every_language_module_is_registered_once() {
    let registered: Vec<&str> = languages().map(|l| l.lang().name()).collect();
    let unique: BTreeSet<&str> = registered.iter().copied().collect();
    assert_eq!(unique.len(), registered.len(), "a language is registered twice: {registered:?}");
    let on_disk = modules_on_disk();
    let registered: BTreeSet<String> = unique.into_iter().map(str::to_string).collect();
    assert_eq!(
        on_disk, registered,
        "src/lang/NAME.rs and REGISTRY disagree: each module is one language, registered `Ready` as NAME"
    );
}

#[test]
fn every_registered_language_is_whole() {
    let mut toolchains = BTreeSet::new();
    for language in languages() {
        let name = language.lang().name();
        assert!(std::ptr::addr_eq(get(language.lang()).unwrap(), language), "{name}: `get` finds another type");
        let budget = language.default_budget();
        assert!(budget.raw_bytes.is_some() && budget.gzip_bytes.is_some(), "{name}: default budget is incomplete");
        assert!(!language.checks().is_empty(), "{name}: no doctor checks");
        for check in language.checks() {
            assert_eq!(check.needed_for, [language.lang()], "{name}: check `{}` is not its own", check.name);
        }
        assert!(toolchains.insert(language.toolchain()), "{name}: toolchain name `{}` taken", language.toolchain());
        assert!(std::ptr::addr_eq(by_toolchain(language.toolchain()).unwrap(), language));
        assert!(!language.templates().is_empty(), "{name}: no `warp new` template");
        for template in language.templates() {
            let temp = tempfile::tempdir().unwrap();
            let dest = temp.path().join("probe");
            crate::templates::instantiate(template, "probe", &dest).unwrap();
            let detected = detect(&dest).map(|l| l.lang());
            assert_eq!(
                detected,
                Some(language.lang()),
                "{name}: template `{}` is detected as {detected:?}",
                template.dir
            );
        }
    }
}

#[test]
fn every_language_name_is_registered() {
    use clap::ValueEnum;
    for lang in Lang::value_variants() {
        let entries = languages().filter(|l| l.lang() == *lang).count();
        assert_eq!(entries, 1, "{lang}: must be in REGISTRY exactly once");
    }
}

#[test]
fn dep_info_files_are_parsed() {
    let text = "/t/warp/x.wasm: /p/src/lib.rs /p/src/a\\ b.rs \\\n  /p/src/c.rs\n\n/p/src/c.rs:\n";
    let files = parse_dep_info(text);
    assert_eq!(files, [Path::new("/p/src/lib.rs"), Path::new("/p/src/a b.rs"), Path::new("/p/src/c.rs")]);
    let sources = normalize_sources(
        vec!["src/x.c".into(), "/usr/include/stdio.h".into(), "src/x.c".into()],
        Path::new("/p"),
        &["/usr".into()],
    );
    assert_eq!(sources, [Path::new("/p/src/x.c")]);
}
