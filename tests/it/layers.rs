//! The layering of `src/`, read from the source: which module names which
//! (`use crate::…`, `crate::…` paths, `super::…`), so that the rule
//! docs/ARCHITECTURE.md states is kept by a test, not by a comment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::repo;

tests! {
    src_has_no_import_cycles_and_plumbing_imports_no_domain: [],
}

/// The ground floor and the engine room: these name no module outside this
/// list. `size` and `shim` are leaves of pure data (sizes and budgets, the
/// shim interfaces' names); `engine` is Wasmtime's configuration and the
/// compiled-code cache.
const PLUMBING: &[&str] = &["error", "fs", "report", "assets", "cache", "size", "shim", "engine", "engine::cache"];

/// Every module of `src/` (`runner::http`, `lang`, …) and the modules it names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let module_of = |path: &Path| -> String {
        let relative = path.strip_prefix(src).unwrap().with_extension("");
        let name = relative.to_string_lossy().replace('/', "::");
        name.strip_suffix("::mod").unwrap_or(&name).to_string()
    };
    let modules: BTreeMap<String, &Path> = files.iter().map(|p| (module_of(p), p.as_path())).collect();
    // The longest module that is a prefix of `path` (`runner::http::Server` → `runner::http`).
    let resolve = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|candidate| modules.contains_key(candidate))
    };
    let mut graph = BTreeMap::new();
    for (module, path) in &modules {
        let text = std::fs::read_to_string(path).unwrap();
        // Unit tests may reach anywhere, and comments name what they like.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let text: String =
            text.lines().filter(|line| !line.trim_start().starts_with("//")).map(|line| format!("{line}\n")).collect();
        let text = text.as_str();
        // `super` of `runner::http` (runner/http.rs) and of `runner` (runner/mod.rs) alike.
        let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent).to_string();
        let mut named = BTreeSet::new();
        for (prefix, base) in [("crate::", String::new()), ("super::", parent)] {
            for path in used_paths(text, prefix) {
                let full = if base.is_empty() { path } else { format!("{base}::{path}") };
                if let Some(target) = resolve(&full).filter(|target| target != module) {
                    named.insert(target);
                }
            }
        }
        graph.insert(module.clone(), named);
    }
    graph
}

/// The paths after `prefix` in `text`, with `use` groups expanded
/// (`crate::a::{b, c::d}` → `a::b`, `a::c::d`).
fn used_paths(text: &str, prefix: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{')).unwrap_or(rest.len());
        let head = &rest[..end];
        if let Some(group_at) = head.find('{') {
            let base = &head[..group_at];
            let close = rest.find('}').unwrap_or(rest.len());
            for item in rest[group_at + 1..close].split(',') {
                let item = item.split_whitespace().next().unwrap_or_default().trim_end_matches(';');
                paths.push(format!("{base}{}", item.trim_start_matches("self")));
            }
        } else {
            paths.push(head.trim_end_matches(':').to_string());
        }
    }
    paths.into_iter().map(|p| p.trim_end_matches(':').to_string()).filter(|p| !p.is_empty()).collect()
}

/// The modules on a cycle, if any (one cycle, as a path).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, bool>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|n| n == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node.to_string(), false);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node.to_string(), true);
        None
    }
    let mut state = BTreeMap::new();
    graph.keys().find_map(|node| visit(node, graph, &mut state, &mut Vec::new()))
}

/// The longest chain of imports (modules, in order).
fn longest_chain(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn from(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        memo: &mut BTreeMap<String, Vec<String>>,
    ) -> Vec<String> {
        if let Some(chain) = memo.get(node) {
            return chain.clone();
        }
        let mut best = Vec::new();
        for next in graph.get(node).into_iter().flatten() {
            let chain = from(next, graph, memo);
            if chain.len() > best.len() {
                best = chain;
            }
        }
        best.insert(0, node.to_string());
        memo.insert(node.to_string(), best.clone());
        best
    }
    let mut memo = BTreeMap::new();
    graph.keys().map(|node| from(node, graph, &mut memo)).max_by_key(Vec::len).unwrap_or_default()
}

/// No two modules of `src/` import each other, directly or around a
/// circle; the plumbing imports nothing but plumbing; and the longest chain
/// of imports is printed (docs/ARCHITECTURE.md quotes it).
fn src_has_no_import_cycles_and_plumbing_imports_no_domain() {
    let graph = module_graph(&repo().join("src"));
    assert!(graph.len() > 40, "too few modules found: {:?}", graph.keys());
    if let Some(cycle) = find_cycle(&graph) {
        panic!("an import cycle: {}", cycle.join(" → "));
    }
    for module in PLUMBING {
        let named = graph.get(*module).unwrap_or_else(|| panic!("no module `{module}` in src/"));
        let domain: Vec<&String> = named.iter().filter(|n| !PLUMBING.contains(&n.as_str())).collect();
        assert!(domain.is_empty(), "plumbing `{module}` imports domain modules: {domain:?}");
    }
    let chain = longest_chain(&graph);
    eprintln!("the longest chain of imports ({} modules): {}", chain.len(), chain.join(" → "));
    assert!(chain.len() < 9, "the import chain grew to {} modules: {}", chain.len(), chain.join(" → "));
}
