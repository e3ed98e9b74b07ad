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
    // Rust ignores SIGPIPE, so `bullseye … | head` would panic on the closed pipe with a stack
    // trace. Like any Unix filter, stop quietly instead; files are written atomically and the
    // ledger transactionally, so stopping here is no worse than a kill.
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match cmd::Cli::try_parse() {
        Ok(cli) => cli,
        // A scheduler that asked for JSON gets JSON, even about the command line.
        Err(e) if e.use_stderr() && json_requested(std::env::args()) => {
            let message = e.to_string();
            let first = message.lines().next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            report_json(bullseye::error::EXIT_BAD_INPUT, first);
            return ExitCode::from(bullseye::error::EXIT_BAD_INPUT);
        }
        Err(e) => e.exit(),
    };
    let json = cli.json_errors();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err
                .chain()
                .find_map(|e| e.downcast_ref::<bullseye::Error>())
                .map(bullseye::Error::exit_code)
                .unwrap_or(bullseye::error::EXIT_FAILURE);
            if json {
                report_json(code, &one_line(&err));
            } else {
                eprintln!("error: {}", one_line(&err));
            }
            ExitCode::from(code)
        }
    }
}

/// The `run_failed` line of `--log-format json`.
fn report_json(code: u8, error: &str) {
    let event = serde_json::json!({
        "event": "run_failed",
        "exit_status": code,
        "error": error,
    });
    eprintln!("{event}");
}

/// Whether the arguments ask for `--log-format json` (read before they parse).
fn json_requested(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--log-format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--log-format" && w[1] == "json")
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
