//! Componentizing a core module (wit-component, with the WASI preview1
//! adapter where the module still imports preview1), validating the result,
//! and checking it against the world it was meant to target.

use anyhow::{Context, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmparser::{Encoding, Parser, Payload, Validator, WasmFeatures};

use crate::error::Diagnostic;
use crate::project::World;
use crate::shim::Shim;

/// WASI 0.2 packages the runner provides.
const WASI_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "http", "io", "random", "sockets"];

/// What a core module imports and exports, as far as componentizing cares.
#[derive(Debug, Default)]
pub struct CoreShape {
    pub imports_preview1: bool,
    pub exports_start: bool,
}

pub fn core_shape(module: &[u8]) -> Result<CoreShape> {
    let mut shape = CoreShape::default();
    for payload in Parser::new(0).parse_all(module) {
        match payload.context("failed to parse core module")? {
            Payload::Version { encoding: Encoding::Component, .. } => {
                anyhow::bail!("expected a core module, found a component")
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if import?.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME {
                        shape.imports_preview1 = true;
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    if export?.name == "_start" {
                        shape.exports_start = true;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(shape)
}

/// Turns a core module carrying `component-type` custom sections (what
/// `wit-bindgen` and the wasip2 standard library embed) into a component.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>> {
    let shape = core_shape(module)?;
    let mut encoder = wit_component::ComponentEncoder::default()
        .validate(true)
        // Debug names cost ~5 KB in a small component; `warp` keeps its own
        // names for size reports in the run manifest instead.
        .debug_names(false)
        .merge_imports_based_on_semver(true)
        .module(module)
        .context("failed to read the component type information in the core module")?;
    // A `_start` export means a command: the command adapter exports
    // `wasi:cli/run` and calls it. Otherwise the reactor adapter serves
    // whatever preview1 calls remain; unused parts of either are dropped.
    if shape.exports_start || shape.imports_preview1 {
        let adapter = if shape.exports_start {
            WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
        } else {
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
        };
        encoder = encoder
            .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
            .context("failed to load the WASI preview1 adapter")?;
    }
    let component = encoder.encode().context("failed to encode the component")?;
    // Names that wit-component registers regardless (~5 KB of WIT type
    // names) are debug info; `warp` keeps its own names in the manifest.
    crate::optimize::strip_custom_sections(&component, |name| name != "component-name")
}

/// Validates a component (or module) with the WebAssembly features the
/// runner's Wasmtime accepts ([`crate::engine::wasm_features`]), so that what
/// `pack` accepts, `run` loads.
pub fn validate(bytes: &[u8]) -> Result<()> {
    validate_with(bytes, crate::engine::wasm_features()?)
}

fn validate_with(bytes: &[u8], features: WasmFeatures) -> Result<()> {
    Validator::new_with_features(features)
        .validate_all(bytes)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("invalid WebAssembly: {e}"))
}

/// A component's top-level imports and exports, by name
/// (`wasi:http/incoming-handler@0.2.12`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interfaces {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

pub fn interfaces(component: &[u8]) -> Result<Interfaces> {
    let mut out = Interfaces::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        match payload.context("failed to parse component")? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    anyhow::bail!("expected a component, found a core module");
                }
                depth += 1;
            }
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    out.imports.push(import?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    out.exports.push(export?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    out.imports.sort();
    out.exports.sort();
    Ok(out)
}

/// `wasi:io/streams@0.2.12` → (`wasi`, `io`, `streams`, `0.2.12`).
fn split_name(name: &str) -> Option<(&str, &str, &str, Option<&str>)> {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let (namespace, rest) = path.split_once(':')?;
    let (package, interface) = rest.split_once('/')?;
    Some((namespace, package, interface, version))
}

fn is_export_of(name: &str, interface: &str) -> bool {
    name.split_once('@').map_or(name, |(path, _)| path) == interface
}

/// The world a component's exports say it targets, if either.
pub fn detect_world(interfaces: &Interfaces) -> Option<World> {
    [World::Http, World::Cli]
        .into_iter()
        .find(|world| interfaces.exports.iter().any(|e| is_export_of(e, world.required_export())))
}

/// Checks that the component targets `world` and imports nothing the runner
/// cannot satisfy: WASI 0.2 and the shims that are enabled.
pub fn check_world(world: World, interfaces: &Interfaces, enabled_shims: &[Shim]) -> Result<()> {
    let required = world.required_export();
    if !interfaces.exports.iter().any(|e| is_export_of(e, required)) {
        let found = if interfaces.exports.is_empty() {
            "it exports nothing".to_string()
        } else {
            format!(
                "it exports: {}",
                interfaces.exports.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
            )
        };
        let help = match world {
            World::Http => {
                "implement `wasi:http/incoming-handler` (e.g. `wasip2::http::proxy::export!(...)`), or set `world = \"cli\"` in warp.toml"
            }
            World::Cli => "give the program a `main` (a binary crate), or set `world = \"http\"` in warp.toml",
        };
        return Err(Diagnostic::check(format!(
            "the component does not target world `{}`: missing export `{required}`; {found}",
            world.wit()
        ))
        .help(help)
        .into());
    }
    for import in &interfaces.imports {
        if let Some(shim) = Shim::from_import(import) {
            if !enabled_shims.contains(&shim) {
                return Err(Diagnostic::check(format!(
                    "the component imports `{import}`, but the `{shim}` shim is not enabled"
                ))
                .help(format!("enable it in warp.toml: `{}`", shim.config_snippet()))
                .into());
            }
            continue;
        }
        match split_name(import) {
            Some(("wasi", package, _, Some(version)))
                if WASI_PACKAGES.contains(&package) && version.starts_with("0.2.") => {}
            _ => {
                return Err(Diagnostic::check(format!(
                    "the component imports `{import}`, which `warp run` cannot provide"
                ))
                .help("a component may import WASI 0.2 (`wasi:*@0.2.x`) and the `warpgrid:shim` interfaces")
                .into());
            }
        }
    }
    Ok(())
}

/// `wit/shim.wit`: the shim interfaces, embedded into modules that import
/// them so wit-component knows their types.
pub const SHIM_WIT: &str = include_str!("../wit/shim.wit");

/// Whether a core module imports any `warpgrid:shim` interface.
pub fn imports_shims(module: &[u8]) -> Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::ImportSection(reader) = payload.context("failed to parse the core module")? {
            for import in reader.into_imports() {
                if import?.module.starts_with(Shim::IMPORT_PREFIX) {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// Adds the `component-type` section for the `shims` world, which the glue
/// in `libwarpgrid-shims.a` imports from; wit-component keeps only the
/// interfaces the module really imports.
pub fn embed_shim_types(module: &mut Vec<u8>) -> Result<()> {
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve.push_str("wit/shim.wit", SHIM_WIT).context("failed to parse the embedded shim WIT")?;
    let world = resolve.select_world(&[package], Some("shims"))?;
    wit_component::embed_component_metadata(module, &resolve, world, wit_component::StringEncoding::UTF8)
        .context("failed to embed the shim types")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interfaces(imports: &[&str], exports: &[&str]) -> Interfaces {
        Interfaces {
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn http_world_needs_incoming_handler() {
        let ok = interfaces(&["wasi:io/streams@0.2.12"], &["wasi:http/incoming-handler@0.2.12"]);
        check_world(World::Http, &ok, &[]).unwrap();
        assert_eq!(detect_world(&ok), Some(World::Http));

        let cli = interfaces(&[], &["wasi:cli/run@0.2.0"]);
        let err = check_world(World::Http, &cli, &[]).unwrap_err().to_string();
        assert!(err.contains("missing export `wasi:http/incoming-handler`"), "{err}");
        assert!(err.contains("`wasi:cli/run@0.2.0`"), "{err}");
    }

    #[test]
    fn validation_refuses_what_the_runner_refuses() {
        // Wide arithmetic is a finished proposal that Wasmtime 48 leaves off.
        let wide = wat::parse_str(
            r#"(module (func (export "add") (param i64 i64 i64 i64) (result i64 i64)
                local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))"#,
        )
        .unwrap();
        validate_with(&wide, WasmFeatures::all()).unwrap();
        let err = validate(&wide).unwrap_err().to_string();
        assert!(err.contains("wide arithmetic support is not enabled"), "{err}");

        let plain = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
        validate(&plain).unwrap();
    }

    #[test]
    fn imports_must_be_satisfiable() {
        let shim = interfaces(&["warpgrid:shim/dns@0.1.0"], &["wasi:cli/run@0.2.0"]);
        let err = check_world(World::Cli, &shim, &[]).unwrap_err().to_string();
        assert!(err.contains("`dns` shim is not enabled"), "{err}");
        check_world(World::Cli, &shim, &[Shim::Dns]).unwrap();

        let unknown = interfaces(&["warpgrid:shim/telepathy@0.1.0"], &["wasi:cli/run@0.2.0"]);
        let err = check_world(World::Cli, &unknown, &Shim::ALL).unwrap_err().to_string();
        assert!(err.contains("which `warp run` cannot provide"), "{err}");

        let foreign = interfaces(&["acme:billing/charge@1.0.0"], &["wasi:cli/run@0.2.0"]);
        let err = check_world(World::Cli, &foreign, &[]).unwrap_err().to_string();
        assert!(err.contains("acme:billing/charge@1.0.0"), "{err}");

        let preview3 = interfaces(&["wasi:io/streams@0.3.0"], &["wasi:cli/run@0.2.0"]);
        assert!(check_world(World::Cli, &preview3, &[]).is_err());
    }
}
