//! `cargo xtask fuzz [--time 60s] [TARGET…]`: runs the `fuzz/` targets
//! (libFuzzer through `cargo +nightly fuzz`, installed when missing), each
//! for the time given, and writes what they did into `docs/BENCHMARKS.md`.
//!
//! Each run starts from the committed corpus (`fuzz/corpus/TARGET`) but
//! writes what it finds to a scratch copy, so the committed seeds change
//! only when someone copies an input in on purpose. A crash leaves its
//! input in `fuzz/artifacts/TARGET/` and fails the task; the input then
//! becomes a unit test beside the code it crashed.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let mut time = Duration::from_secs(60);
    let mut targets: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => time = parse_time(args.next().context("--time takes a duration, e.g. `60s` or `5m`")?)?,
            target => targets.push(target.to_string()),
        }
    }
    ensure_cargo_fuzz(sh)?;
    let fuzz_dir = crate::root().join("fuzz");
    let _dir = sh.push_dir(&fuzz_dir);
    if targets.is_empty() {
        targets = cmd!(sh, "cargo +nightly fuzz list").read()?.lines().map(String::from).collect();
    }
    // No sanitizer: the code under test is safe Rust, where a sanitizer
    // finds nothing and costs half the speed; debug assertions catch the
    // arithmetic overflows that release builds would wrap silently.
    let flags = ["--sanitizer", "none", "--debug-assertions"];
    cmd!(sh, "cargo +nightly fuzz build {flags...}").run().context("failed to build the fuzz targets")?;

    let scratch = crate::scratch_dir(sh, "warp-xtask-fuzz")?;
    let seconds = time.as_secs().max(1).to_string();
    let mut rows = Vec::new();
    let mut crashed = Vec::new();
    for target in &targets {
        let corpus = scratch.join(target);
        let seeds = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        std::fs::create_dir_all(&seeds)?;
        let seed_count = std::fs::read_dir(&seeds)?.count();
        let started = Instant::now();
        let output = cmd!(
            sh,
            "cargo +nightly fuzz run {flags...} {target} {corpus} {seeds} -- -max_total_time={seconds} -print_final_stats=1"
        )
        .ignore_status()
        .output()?;
        let log = String::from_utf8_lossy(&output.stderr);
        let stat = |name: &str| {
            log.lines()
                .find_map(|line| line.strip_prefix(&format!("stat::{name}:")))
                .map_or("?".to_string(), |value| value.trim().to_string())
        };
        let found = std::fs::read_dir(&corpus)?.count();
        let outcome = if output.status.success() {
            "no crash".to_string()
        } else {
            crashed.push(target.clone());
            let artifact = log
                .lines()
                .find_map(|line| line.split_once("Test unit written to ").map(|(_, path)| path.trim().to_string()))
                .unwrap_or_else(|| "see the log above".into());
            eprintln!("{log}");
            format!("**crash**: `{artifact}`")
        };
        rows.push(format!(
            "| `{target}` | {:.0} s | {} | {seed_count} → {} | {outcome} |",
            started.elapsed().as_secs_f64(),
            stat("number_of_executed_units"),
            seed_count + found,
        ));
    }

    let rustc = cmd!(sh, "rustc +nightly --version").read()?;
    let date = cmd!(sh, "date -u +%Y-%m-%d").read()?;
    let command = match time.as_secs() {
        60 => "cargo xtask fuzz".to_string(),
        secs => format!("cargo xtask fuzz --time {secs}s"),
    };
    let body = format!(
        "`{command}` on the development machine (2 cores), {date}, {rustc}, `cargo fuzz` with \
         `--sanitizer none --debug-assertions`, each target from its committed corpus \
         (`fuzz/corpus/TARGET`). Inputs: the seeds, then those libFuzzer kept for new coverage.\n\n\
         | target | time | inputs run | corpus (seeds → kept) | result |\n|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    println!("{body}");
    crate::write_benchmarks(Some("Fuzzing (`cargo xtask fuzz`)"), &body)?;
    if !crashed.is_empty() {
        bail!("fuzz targets crashed: {} (inputs in fuzz/artifacts/)", crashed.join(", "));
    }
    Ok(())
}

/// `60s`, `5m`, `1h`, or plain seconds.
fn parse_time(text: &str) -> Result<Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let number: u64 = number.parse().with_context(|| format!("invalid time `{text}`: expected e.g. `60s`"))?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        _ => bail!("invalid time `{text}`: the unit is s, m or h"),
    };
    Ok(Duration::from_secs(seconds))
}

/// `cargo fuzz` for the nightly toolchain, from crates.io when missing.
fn ensure_cargo_fuzz(sh: &Shell) -> Result<()> {
    if cmd!(sh, "cargo +nightly fuzz --version").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
        return Ok(());
    }
    cmd!(sh, "rustup toolchain install nightly --profile minimal").run().context("failed to install nightly Rust")?;
    cmd!(sh, "cargo install cargo-fuzz --locked").run().context("failed to install cargo-fuzz")?;
    Ok(())
}
