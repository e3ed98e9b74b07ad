use std::path::PathBuf;

use clap::Args;

use super::run::{LogFormat, RunArgs};

/// Run the bundled quickstart job (`notebooks-data/jobs/quickstart.toml`): every stage on the
/// bundled data, from the raw files to audiences, a manifest and the HTML report. The same as
/// `bullseye run notebooks-data/jobs/quickstart.toml`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  cargo run --release -- quickstart\n  bullseye quickstart --out /tmp/qs"
)]
pub struct QuickstartArgs {
    /// Output folder [default: the job's, out/quickstart]; the run goes to OUT/1998-06-30/
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of the bundled data [default: ./notebooks-data, else the source tree's]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// No progress and no summary
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: QuickstartArgs) -> anyhow::Result<()> {
    let data = args.data.unwrap_or_else(default_data_dir);
    super::run::run(RunArgs {
        job: data.join("jobs/quickstart.toml"),
        as_of: None,
        out: args.out,
        quiet: args.quiet,
        log_format: LogFormat::Text,
        raw_csv: false,
        lock_timeout: 0,
    })
}

fn default_data_dir() -> PathBuf {
    let here = PathBuf::from("notebooks-data");
    if here.join("jobs/quickstart.toml").exists() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("notebooks-data")
    }
}
