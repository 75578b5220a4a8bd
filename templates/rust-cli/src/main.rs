//! A wasi:cli program: greets whoever `GREETING` names and echoes its arguments.
//!
//! `warp pack` builds this into a component that exports `wasi:cli/run`.

fn main() {
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "hello".to_string());
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("{greeting} from warp {}", args.join(" "));
}
