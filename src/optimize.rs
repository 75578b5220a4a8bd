//! Optimizing core modules with Binaryen's `wasm-opt`, and stripping the
//! custom sections a runtime does not need.
//!
//! Binaryen has no component support, so this runs on the core module before
//! it is componentized. `component-type:*` sections survive both steps: the
//! componentizer needs them.

use anyhow::{Context, Result, bail};
use wasm_opt::{Feature, OptimizationOptions, Pass};

/// Binaryen release the `wasm-opt` crate embeds (recorded in manifests).
pub const BINARYEN_VERSION: &str = "116";

/// How hard to optimize: the language's choice (see `BuildOutput::optimize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `-Oz --gufa --converge`: the smallest output, for modules of a few
    /// hundred KB (Rust, C).
    Smallest,
    /// `-O1`: for multi-megabyte modules of a language runtime (Go). On a
    /// 10 MB net/http module (2 cores) it takes 6-17 s for 3% off; `-Os`
    /// took ~45 s for 6.5%, and repeated whole-program passes cost minutes.
    /// The features Go emits without a `target_features` section are
    /// enabled explicitly.
    Runtime,
}

/// Runs `wasm-opt` at `level` on a core module, keeping the `name` section so that
/// size contributors can still be named afterwards.
pub fn optimize(module: &[u8], level: Level) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir().context("failed to create a temporary directory for wasm-opt")?;
    let input = dir.path().join("in.wasm");
    let output = dir.path().join("out.wasm");
    std::fs::write(&input, module).with_context(|| format!("failed to write `{}`", input.display()))?;
    // Features come from the module's own `target_features` section, which
    // Binaryen reads; nothing newer than what the compiler used is emitted.
    // `-Oz`, then GUFA (whole-program flow analysis), repeated while the
    // module keeps shrinking: about 1.5% smaller code than `-Oz` alone.
    let mut options = match level {
        Level::Smallest => {
            let mut options = OptimizationOptions::new_optimize_for_size_aggressively();
            options.add_pass(Pass::Gufa).set_converge();
            options
        }
        Level::Runtime => {
            let mut options = OptimizationOptions::new_opt_level_1();
            for feature in [Feature::BulkMemory, Feature::SignExt, Feature::TruncSat, Feature::MutableGlobals] {
                options.enable_feature(feature);
            }
            options
        }
    };
    options.debug_info(true).run(&input, &output).map_err(|e| anyhow::anyhow!("wasm-opt failed: {e}"))?;
    std::fs::read(&output).with_context(|| format!("failed to read `{}`", output.display()))
}

/// Drops every top-level custom section of a core module or component for
/// which `keep(name)` is false.
pub fn strip_custom_sections(module: &[u8], keep: impl Fn(&str) -> bool) -> Result<Vec<u8>> {
    if module.len() < 8 || &module[..4] != b"\0asm" {
        bail!("not a WebAssembly module");
    }
    let mut out = Vec::with_capacity(module.len());
    out.extend_from_slice(&module[..8]);
    let mut pos = 8;
    while pos < module.len() {
        let start = pos;
        let id = module[pos];
        pos += 1;
        let (size, len) = read_leb_u32(&module[pos..]).context("malformed section header")?;
        pos += len;
        let end =
            pos.checked_add(size as usize).filter(|&end| end <= module.len()).context("section runs past the end")?;
        let keep_section = if id == 0 {
            let (name_len, len) = read_leb_u32(&module[pos..end]).context("malformed custom section name")?;
            let name_start = pos + len;
            let name = module
                .get(name_start..name_start + name_len as usize)
                .and_then(|b| std::str::from_utf8(b).ok())
                .context("malformed custom section name")?;
            keep(name)
        } else {
            true
        };
        if keep_section {
            out.extend_from_slice(&module[start..end]);
        }
        pos = end;
    }
    Ok(out)
}

fn read_leb_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut result: u32 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        result |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((result, i + 1));
        }
    }
    None
}

/// What a component keeps of a core module's custom sections.
pub fn is_needed_section(name: &str) -> bool {
    name.starts_with("component-type")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut content = vec![name.len() as u8];
        content.extend_from_slice(name.as_bytes());
        content.extend_from_slice(payload);
        let mut section = vec![0, content.len() as u8];
        section.extend(content);
        section
    }

    #[test]
    fn strips_only_unneeded_custom_sections() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend(custom("name", b"abc"));
        module.extend([1, 1, 0]); // empty type section
        module.extend(custom("component-type:x", b"def"));
        let stripped = strip_custom_sections(&module, is_needed_section).unwrap();
        let mut expected = b"\0asm\x01\0\0\0".to_vec();
        expected.extend([1, 1, 0]);
        expected.extend(custom("component-type:x", b"def"));
        assert_eq!(stripped, expected);
    }

    #[test]
    fn rejects_truncated_input() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend([1, 9, 0]);
        assert!(strip_custom_sections(&module, |_| true).is_err());
        assert!(strip_custom_sections(b"nope", |_| true).is_err());
    }
}
