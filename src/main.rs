//! The `warp` binary: parse the command line, run, exit with the status.

fn main() -> std::process::ExitCode {
    warp::cli::main()
}
