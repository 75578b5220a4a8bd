//! Errors that decide `warp`'s exit status and carry a `help:` line.
//!
//! Domain code returns `anyhow::Error`; where the cause is known well enough
//! to say what to do about it, the error in the chain is a [`Diagnostic`]. The
//! command layer walks the chain for one to pick the exit code and the hint.

use std::fmt;

/// Exit status, as documented in `warp --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything checked out.
    Ok,
    /// The project (or artifact) was examined and failed a check: it did not
    /// compile, targets the wrong world, breaks a budget, is not valid wasm.
    CheckFailed,
    /// `warp` could not do its job: bad usage, a missing file or tool.
    Environment,
    /// A guest program's own exit status, passed through by `warp run`.
    Guest(u8),
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::CheckFailed => 1,
            Exit::Environment => 2,
            Exit::Guest(code) => code,
        }
    }
}

/// An error whose cause is understood: how to exit, and how to fix it.
#[derive(Debug)]
pub struct Diagnostic {
    pub message: String,
    pub help: Option<String>,
    pub exit: Exit,
}

impl Diagnostic {
    /// The project failed a check (exit 1).
    pub fn check(message: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), help: None, exit: Exit::CheckFailed }
    }

    /// Usage or environment error (exit 2).
    pub fn env(message: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), help: None, exit: Exit::Environment }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// The first [`Diagnostic`] in an error's chain, if any.
pub fn diagnostic(error: &anyhow::Error) -> Option<&Diagnostic> {
    // A `Diagnostic` attached with `.context(..)` is only visible through
    // anyhow's own downcast, not through the chain.
    error.downcast_ref::<Diagnostic>().or_else(|| error.chain().find_map(|cause| cause.downcast_ref::<Diagnostic>()))
}

/// The exit status for an error: a [`Diagnostic`]'s own, else environment.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    diagnostic(error).map_or(Exit::Environment, |d| d.exit)
}

/// A tool's own diagnostics (the compiler's errors), shown verbatim before
/// `warp`'s `error:` line.
#[derive(Debug)]
pub struct ToolOutput {
    pub text: String,
}

impl fmt::Display for ToolOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the compiler reported errors (shown above)")
    }
}

impl std::error::Error for ToolOutput {}

/// The compiler diagnostics an error carries ([`ToolOutput`]), if any.
pub fn tool_output(error: &anyhow::Error) -> Option<String> {
    let texts: Vec<&str> =
        error.chain().filter_map(|cause| cause.downcast_ref::<ToolOutput>()).map(|o| o.text.as_str()).collect();
    (!texts.is_empty()).then(|| texts.concat())
}
