//! Language builders: each turns a project into a core module (or a
//! component) with its language's own toolchain. One file per language;
//! adding one touches nothing else but [`builder_for`].

pub mod c;
pub mod rust;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use crate::error::Diagnostic;
use crate::project::{Lang, Project};
use crate::report::Reporter;

/// What the user asked to build.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// `-p`: the package in a workspace.
    pub package: Option<String>,
    /// `--bin`: the binary target, when a package has several.
    pub bin: Option<String>,
    /// Whether compiler diagnostics may carry ANSI colour.
    pub color: bool,
}

/// What a builder produced.
#[derive(Debug)]
pub struct BuildOutput {
    /// The component's name (the package name).
    pub name: String,
    pub artifact: Artifact,
    /// Where the packed component goes unless `-o` says otherwise.
    pub out_dir: PathBuf,
    /// The built package's directory (a workspace member's, in a workspace).
    pub package_root: PathBuf,
    /// Tool → version, recorded in the run manifest.
    pub toolchain: BTreeMap<String, String>,
}

#[derive(Debug)]
pub enum Artifact {
    /// A core module with `component-type` sections, to optimize and componentize.
    CoreModule(Vec<u8>),
    /// Already a component (the toolchain componentized it itself).
    Component(Vec<u8>),
}

/// One language's way of building a project.
pub trait Builder {
    fn lang(&self) -> Lang;
    fn build(&self, project: &Project, request: &BuildRequest, reporter: &dyn Reporter) -> Result<BuildOutput>;
}

pub fn builder_for(lang: Lang) -> Result<Box<dyn Builder>> {
    match lang {
        Lang::Rust => Ok(Box::new(rust::RustBuilder)),
        Lang::C => Ok(Box::new(c::CBuilder)),
        other => Err(Diagnostic::env(format!(
            "`warp pack --lang {other}` is not implemented yet; this warp packs Rust and C"
        ))
        .help("track the language's issue, or pack a Rust or C project")
        .into()),
    }
}
