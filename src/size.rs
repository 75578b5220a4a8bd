//! Size accounting: byte sizes from text, gzip size, per-item contributors
//! inside modules and components, and budget decisions.
//!
//! Everything here is a function of bytes in memory: this module never
//! touches the file system or spawns a process.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use flate2::{Compression, write::GzEncoder};
use serde::{Deserialize, Serialize};
use wasmparser::{Encoding, KnownCustom, Name, Parser, Payload};

/// A byte count written by a person: `300KB`, `1.5 MB`, `64KiB`, `120000`.
///
/// `KB`/`MB`/`GB` are powers of 1000, `KiB`/`MiB`/`GiB` powers of 1024, so
/// that a budget reads the same as the size `warp` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "ByteSizeRepr", into = "u64")]
pub struct ByteSize(pub u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum ByteSizeRepr {
    Number(u64),
    Text(String),
}

impl TryFrom<ByteSizeRepr> for ByteSize {
    type Error = String;
    fn try_from(repr: ByteSizeRepr) -> Result<Self, String> {
        match repr {
            ByteSizeRepr::Number(n) => Ok(ByteSize(n)),
            ByteSizeRepr::Text(text) => text.parse().map_err(|e: anyhow::Error| e.to_string()),
        }
    }
}

impl From<ByteSize> for u64 {
    fn from(size: ByteSize) -> u64 {
        size.0
    }
}

impl FromStr for ByteSize {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" | "k" => 1_000,
            "mb" | "m" => 1_000_000,
            "gb" | "g" => 1_000_000_000,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            other => bail!("invalid size `{text}`: unknown unit `{other}` (use B, KB, MB, GB, KiB, MiB or GiB)"),
        };
        let value: f64 =
            number.parse().map_err(|_| anyhow::anyhow!("invalid size `{text}`: expected a number like `300KB`"))?;
        if !value.is_finite() || value < 0.0 {
            bail!("invalid size `{text}`: must be a positive number");
        }
        let bytes = (value * multiplier as f64).round();
        // `as` would saturate: a typo of twenty digits must not mean "no limit".
        if bytes >= u64::MAX as f64 {
            bail!("invalid size `{text}`: too large (at most 16 EiB)");
        }
        Ok(ByteSize(bytes as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_bytes(self.0))
    }
}

/// `1234567` → `1,234,567 B`.
pub fn human_bytes(bytes: u64) -> String {
    let digits = bytes.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(" B");
    out
}

/// The size of `bytes` gzip-compressed at level 9, as a CDN would serve it.
pub fn gzip_len(bytes: &[u8]) -> u64 {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::new(9));
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail").len() as u64
}

/// Raw and gzip size of one artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

impl Sizes {
    pub fn of(bytes: &[u8]) -> Sizes {
        Sizes { raw_bytes: bytes.len() as u64, gzip_bytes: gzip_len(bytes) }
    }
}

/// Upper limits for an artifact; `None` means unchecked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip_bytes: Option<u64>,
}

/// The budget of a component without a runtime of its own (Rust, C), and of
/// a bare `.wasm` that `size-check` measures without a manifest.
/// How many contributors a run manifest records (`warp size-check` shows
/// at least as many).
pub const MANIFEST_CONTRIBUTORS: usize = 20;

pub const SMALL_COMPONENT_BUDGET: Budget = Budget { raw_bytes: Some(300_000), gzip_bytes: Some(120_000) };

/// Which measurement broke its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    Raw,
    Gzip,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Measure::Raw => "raw",
            Measure::Gzip => "gzip",
        })
    }
}

/// One measurement over its limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    pub measure: Measure,
    pub actual: u64,
    pub limit: u64,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} size {} is over the budget of {} by {}",
            self.measure,
            human_bytes(self.actual),
            human_bytes(self.limit),
            human_bytes(self.actual - self.limit)
        )
    }
}

/// The budget breaches of `sizes`, raw first.
pub fn check_budget(sizes: Sizes, budget: Budget) -> Vec<Breach> {
    let mut breaches = Vec::new();
    for (measure, actual, limit) in
        [(Measure::Raw, sizes.raw_bytes, budget.raw_bytes), (Measure::Gzip, sizes.gzip_bytes, budget.gzip_bytes)]
    {
        if let Some(limit) = limit.filter(|&limit| actual > limit) {
            breaches.push(Breach { measure, actual, limit });
        }
    }
    breaches
}

/// A change in size against a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    pub bytes: i64,
    /// `None` when the baseline was empty.
    pub percent: Option<f64>,
}

impl Delta {
    pub fn between(before: u64, after: u64) -> Delta {
        let bytes = after as i64 - before as i64;
        let percent = (before > 0).then(|| bytes as f64 * 100.0 / before as f64);
        Delta { bytes, percent }
    }
}

impl fmt::Display for Delta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.bytes > 0 {
            "+"
        } else if self.bytes < 0 {
            "-"
        } else {
            "±"
        };
        let magnitude = human_bytes(self.bytes.unsigned_abs());
        match self.percent {
            Some(p) => write!(f, "{sign}{magnitude} ({sign}{:.1}%)", p.abs()),
            None => write!(f, "{sign}{magnitude}"),
        }
    }
}

/// What kind of thing takes up the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContributorKind {
    Function,
    Data,
    CustomSection,
    Section,
    ComponentSection,
}

/// One item and the bytes it takes in the binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub kind: ContributorKind,
    /// Which core module it lives in (`main`, an adapter, a shim), or
    /// `component` for the component's own sections.
    pub module: String,
    pub name: String,
    pub bytes: u64,
}

/// Function names by index, to name the functions of a module whose `name`
/// section was stripped (`warp pack` keeps them from before the strip).
pub type FunctionNames = BTreeMap<u32, String>;

/// Every contributor in a core module or component, largest first.
///
/// `main_names` names the functions of the first core module when its own
/// name section is gone.
pub fn contributors(wasm: &[u8], main_names: Option<&FunctionNames>) -> Result<Vec<Contributor>> {
    let mut items = Vec::new();
    // One frame per module or component being parsed; nested modules of a
    // component are flattened into the payload stream by `parse_all`.
    let mut stack: Vec<Frame> = Vec::new();
    let mut module_count = 0usize;
    let mut module_labels: BTreeMap<u32, String> = BTreeMap::new();

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.context("failed to parse WebAssembly")?;
        match payload {
            Payload::Version { encoding, .. } => {
                let frame = match encoding {
                    Encoding::Module => {
                        let index = module_count;
                        module_count += 1;
                        let nested = !stack.is_empty();
                        Frame::Module(ModuleFrame {
                            index,
                            label: match (nested, index) {
                                (false, _) => "module".into(),
                                (true, 0) => "main".into(),
                                (true, _) => format!("module[{index}]"),
                            },
                            imported_functions: 0,
                            defined: 0,
                            functions: Vec::new(),
                            names: BTreeMap::new(),
                            items: Vec::new(),
                        })
                    }
                    Encoding::Component => Frame::Component,
                };
                stack.push(frame);
            }
            Payload::End(_) => {
                if let Some(Frame::Module(module)) = stack.pop() {
                    let is_main = module.index == 0;
                    let label = module_labels.get(&(module.index as u32)).cloned().unwrap_or(module.label.clone());
                    items.extend(module.finish(label, if is_main { main_names } else { None }));
                }
            }
            other => match stack.last_mut() {
                Some(Frame::Module(module)) => module.payload(other)?,
                Some(Frame::Component) => {
                    if let Payload::CustomSection(section) = &other
                        && let KnownCustom::ComponentName(reader) = section.as_known()
                    {
                        for name in reader.into_iter().flatten() {
                            if let wasmparser::ComponentName::CoreModules(map) = name {
                                for naming in map.into_iter().flatten() {
                                    module_labels.insert(naming.index, naming.name.to_string());
                                }
                            }
                        }
                    }
                    // Nested modules and components are accounted for inside.
                    if matches!(other, Payload::ModuleSection { .. } | Payload::ComponentSection { .. }) {
                        continue;
                    }
                    if let Some((id, range)) = other.as_section() {
                        items.push(Contributor {
                            kind: ContributorKind::ComponentSection,
                            module: "component".into(),
                            name: component_section_name(id, &other),
                            bytes: range.len() as u64,
                        });
                    }
                }
                None => bail!("malformed WebAssembly: payload outside of a module"),
            },
        }
    }
    // Items with the same identity (e.g. each component type section) add up.
    let mut merged: BTreeMap<(ContributorKind, String, String), u64> = BTreeMap::new();
    for item in items {
        *merged.entry((item.kind, item.module, item.name)).or_default() += item.bytes;
    }
    let mut items: Vec<Contributor> =
        merged.into_iter().map(|((kind, module, name), bytes)| Contributor { kind, module, name, bytes }).collect();
    items.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    Ok(items)
}

enum Frame {
    Module(ModuleFrame),
    Component,
}

struct ModuleFrame {
    index: usize,
    label: String,
    imported_functions: u32,
    defined: u32,
    functions: Vec<(u32, u64)>,
    names: FunctionNames,
    items: Vec<(ContributorKind, String, u64)>,
}

impl ModuleFrame {
    fn payload(&mut self, payload: Payload<'_>) -> Result<()> {
        let section = payload.as_section();
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import?.ty, wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)) {
                        self.imported_functions += 1;
                    }
                }
                if let Some((_, range)) = section {
                    self.items.push((ContributorKind::Section, "import section".into(), range.len() as u64));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let index = self.imported_functions + self.defined;
                self.defined += 1;
                self.functions.push((index, body.range().len() as u64));
            }
            Payload::CodeSectionStart { .. } => {}
            Payload::DataSection(reader) => {
                for (i, data) in reader.into_iter().enumerate() {
                    let data = data?;
                    self.items.push((ContributorKind::Data, format!("data[{i}]"), data.range.len() as u64));
                }
            }
            Payload::CustomSection(section) => {
                collect_function_names(&section, &mut self.names);
                self.items.push((
                    ContributorKind::CustomSection,
                    format!("custom section `{}`", section.name()),
                    section.range().len() as u64,
                ));
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    self.items.push((
                        ContributorKind::Section,
                        format!("{} section", core_section_name(id)),
                        range.len() as u64,
                    ));
                }
            }
        }
        Ok(())
    }

    fn finish(self, label: String, names: Option<&FunctionNames>) -> Vec<Contributor> {
        let mut out = Vec::with_capacity(self.functions.len() + self.items.len());
        for (index, bytes) in self.functions {
            let name = self
                .names
                .get(&index)
                .or_else(|| names.and_then(|n| n.get(&index)))
                .cloned()
                .unwrap_or_else(|| format!("func[{index}]"));
            out.push(Contributor { kind: ContributorKind::Function, module: label.clone(), name, bytes });
        }
        for (kind, name, bytes) in self.items {
            out.push(Contributor { kind, module: label.clone(), name, bytes });
        }
        out
    }
}

fn core_section_name(id: u8) -> &'static str {
    match id {
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        13 => "tag",
        _ => "unknown",
    }
}

fn component_section_name(id: u8, payload: &Payload<'_>) -> String {
    if let Payload::CustomSection(section) = payload {
        return format!("custom section `{}`", section.name());
    }
    let kind = match id {
        2 => "core instance",
        3 => "core type",
        5 => "instance",
        6 => "alias",
        7 => "type",
        8 => "canonical",
        9 => "start",
        10 => "import",
        11 => "export",
        _ => "other",
    };
    format!("{kind} sections")
}

/// Rust symbol names, legacy or v0 mangled, without the hash.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// The function names in a core module's `name` section.
pub fn function_names(module: &[u8]) -> Result<FunctionNames> {
    let mut names = FunctionNames::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::CustomSection(section) = payload.context("failed to parse WebAssembly module")? {
            collect_function_names(&section, &mut names);
        }
    }
    Ok(names)
}

/// Adds the function names of a `name` custom section (anything else is ignored).
fn collect_function_names(section: &wasmparser::CustomSectionReader<'_>, names: &mut FunctionNames) {
    if let KnownCustom::Name(reader) = section.as_known() {
        for name in reader.into_iter().flatten() {
            if let Name::Function(map) = name {
                for naming in map.into_iter().flatten() {
                    names.insert(naming.index, demangle(naming.name));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
