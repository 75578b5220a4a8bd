//! `cargo xtask bindings`: the guest SDKs' bindings, generated from `wit/`
//! (the one copy of the shim contract) and committed, so guests build
//! without the bindings generator.

use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_bindgen_core::wit_parser::Resolve;
use wit_bindgen_core::{Files, WorldGenerator};

/// The generated file, relative to the repository root.
pub const RUST_BINDINGS: &str = "sdk/rust/src/bindings.rs";

pub fn run(root: &Path, check: bool) -> Result<()> {
    let generated = rust_bindings(&root.join("wit"))?;
    let path = root.join(RUST_BINDINGS);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        eprintln!("bindings: {RUST_BINDINGS} is up to date");
        return Ok(());
    }
    if check {
        bail!("{RUST_BINDINGS} is stale: wit/ changed; run `cargo xtask bindings` and commit the result");
    }
    std::fs::write(&path, generated).with_context(|| format!("failed to write {}", path.display()))?;
    eprintln!("bindings: wrote {RUST_BINDINGS}");
    Ok(())
}

fn rust_bindings(wit: &Path) -> Result<String> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit).with_context(|| format!("failed to parse {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some("shims"))?;
    let opts = wit_bindgen_rust::Opts { format: true, ..Default::default() };
    let mut files = Files::default();
    opts.build().generate(&mut resolve, world, &mut files)?;
    let (_, contents) = files.iter().next().context("the generator wrote no file")?;
    Ok(String::from_utf8(contents.to_vec())?)
}
