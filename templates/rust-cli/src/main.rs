//! A wasi:cli program: greets whoever `GREETING` names and echoes its
//! arguments; `lookup NAME...` prints the addresses the deployment's DNS
//! gives each name (the `[shims.dns]` registry in warp.toml).
//!
//! `warp pack` builds this into a component that exports `wasi:cli/run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("lookup") {
        let mut status = ExitCode::SUCCESS;
        for name in &args[1..] {
            match warpgrid::dns::resolve(name) {
                Ok(addrs) => addrs.iter().for_each(|addr| println!("{name}\t{addr}")),
                Err(e) => {
                    eprintln!("{name}: {e}");
                    status = ExitCode::FAILURE;
                }
            }
        }
        return status;
    }
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "hello".to_string());
    println!("{greeting} from warp {}", args.join(" "));
    ExitCode::SUCCESS
}
