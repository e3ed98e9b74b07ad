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
    /// Output folder [default: out/quickstart; outside the repository, ./out/quickstart]; the run
    /// goes to OUT/1998-06-30/
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of the bundled data [default: ./notebooks-data, else the source tree's, read only]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// No progress and no summary
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: QuickstartArgs) -> anyhow::Result<()> {
    let (data, out) = match args.data {
        Some(data) => (data, args.out),
        None => {
            let here = PathBuf::from("notebooks-data");
            if here.join("jobs/quickstart.toml").exists() {
                (here, args.out)
            } else {
                // Outside the repository: read the source tree's bundled data, but write here,
                // never into the tree the binary was built from.
                let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("notebooks-data");
                let out = args.out.unwrap_or_else(|| PathBuf::from("out/quickstart"));
                if !args.quiet {
                    eprintln!(
                        "reading the bundled data in {}; writing to {}",
                        data.display(),
                        out.display()
                    );
                }
                (data, Some(out))
            }
        }
    };
    super::run::run(RunArgs {
        job: data.join("jobs/quickstart.toml"),
        as_of: None,
        out,
        quiet: args.quiet,
        log_format: LogFormat::Text,
        raw_csv: false,
        lock_timeout: 0,
    })
}
