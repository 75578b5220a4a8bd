//! The command line: global flags, subcommands, and the one place that maps
//! errors to `error:`/`Caused by:`/`help:` output and exit codes.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands;
use crate::error::Exit;
use crate::ui::{ColorChoice, Printer, Verbosity};

const AFTER_HELP: &str = "\
Examples:
  warp new --lang rust hello        a wasi:http service from a template
  warp pack hello                   build, optimize, componentize, check budgets
  warp size-check hello/target/warp/hello.warp.json --baseline main.json

Exit status:
  0  ok
  1  the project failed a check: it did not compile, targets the wrong world,
     breaks a size budget, or an artifact is not valid WebAssembly
  2  usage or environment error: bad flags, missing files or tools";

/// Packs services into WebAssembly components, keeps them small, runs them.
#[derive(Debug, Parser)]
#[command(name = "warp", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print less: only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: every line the toolchains print.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to use colour (also honours `NO_COLOR`).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

impl GlobalOpts {
    pub fn printer(&self) -> Printer {
        let verbosity = if self.quiet {
            Verbosity::Quiet
        } else if self.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Printer::new(verbosity, self.json, self.color)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    New(commands::new::Opts),
    Pack(commands::pack::Opts),
    SizeCheck(commands::size_check::Opts),
    Doctor(commands::doctor::Opts),
    Run(commands::run::Opts),
    Dev(commands::dev::Opts),
    Toolchain(commands::toolchain::Opts),
    Rebase(commands::rebase::Opts),
    Patches(commands::patches::Opts),
    Cache(commands::cache::Opts),
    Compat(commands::compat::Opts),
}

pub fn main() -> std::process::ExitCode {
    // Not a command for people: ComponentizeJS runs it as its Wizer.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(crate::lang::ts::wizer::SUBCOMMAND) {
        return crate::lang::ts::wizer::main(&args[2..]);
    }
    // The recipe list is read only when it will be printed, not on every start.
    let mut command = Cli::command();
    if std::env::args_os().any(|arg| arg == "--version") {
        // Printed once, then the process exits: leaking it is the `&'static` clap wants.
        command = command.long_version(&*Box::leak(long_version().into_boxed_str()));
    }
    let matches = match command.try_get_matches() {
        Ok(matches) => matches,
        Err(e) => {
            let _ = e.print();
            let code = if e.use_stderr() { Exit::Environment.code() } else { 0 };
            return std::process::ExitCode::from(code);
        }
    };
    let cli = Cli::from_arg_matches(&matches).expect("matches come from this Cli");
    let printer = cli.global.printer();
    let result = match cli.command {
        Command::New(opts) => commands::new::run(opts, &printer),
        Command::Pack(opts) => commands::pack::run(opts, &printer),
        Command::SizeCheck(opts) => commands::size_check::run(opts, &printer),
        Command::Doctor(opts) => commands::doctor::run(opts, &printer),
        Command::Run(opts) => commands::run::run(opts, &printer),
        Command::Dev(opts) => commands::dev::run(opts, &printer),
        Command::Toolchain(opts) => commands::toolchain::run(opts, &printer),
        Command::Rebase(opts) => commands::rebase::run(opts, &printer),
        Command::Patches(opts) => commands::patches::run(opts, &printer),
        Command::Cache(opts) => commands::cache::run(opts, &printer),
        Command::Compat(opts) => commands::compat::run(opts, &printer),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(error) => printer.error(&error),
    };
    std::process::ExitCode::from(exit.code())
}

/// `warp --version`: the version, then the toolchain recipes and patch
/// series this binary carries (`-V` prints only the first line).
fn long_version() -> String {
    let mut text = format!("{}\ntoolchain recipes and patch series built in:", env!("CARGO_PKG_VERSION"));
    for line in crate::fork::recipe::embedded_summary() {
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn the_long_version_names_the_carried_series() {
        let text = super::long_version();
        assert!(text.contains("wasi-libc"), "{text}");
        assert!(text.contains("(alias libc)"), "{text}");
        assert!(text.contains("npm @bytecodealliance/componentize-js@"), "{text}");
    }
}
