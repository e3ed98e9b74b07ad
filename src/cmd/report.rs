use std::path::PathBuf;

use clap::Args;

/// Re-render a run's HTML report from its report.json (charts, captions and tables).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye report out/weekly/2024-03-31\n  \
    bullseye report out/weekly/2024-03-31 --out /tmp/weekly-report.html")]
pub struct ReportArgs {
    /// Run folder holding report.json (written by the `report` stage of `bullseye run`)
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
    /// Output HTML file [default: RUN_DIR/report.html]
    #[arg(long, value_name = "FILE.html")]
    pub out: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let written = bullseye::report::rerender(&args.run_dir, args.out.as_deref())
        .map_err(bullseye::Error::from)?;
    println!("wrote {}", written.display());
    Ok(())
}
