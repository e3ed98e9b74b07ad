//! The `bullseye` command line: parses arguments, calls the library, prints, maps errors to exit
//! codes. Everything else lives in the library.

mod cmd;

// polars allocates heavily in parallel; glibc's malloc is a measurable share of its run time
// (the Python wheel ships its own allocator for the same reason). Built with `no_thp`: mimalloc
// otherwise asks for transparent huge pages, and every purge-and-refault of freed memory then
// zeroes a whole 2 MiB page — 10 s of kernel time in a 24 s feature build at 1M customers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            let code = err
                .chain()
                .find_map(|e| e.downcast_ref::<bullseye::Error>())
                .map(bullseye::Error::exit_code)
                .unwrap_or(bullseye::error::EXIT_FAILURE);
            ExitCode::from(code)
        }
    }
}

/// The error and its causes on one line, each cause once: our messages already quote the cause
/// they wrap, so a cause whose text is already there is not repeated.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
