use std::path::PathBuf;

use clap::Args;

/// Run every stage on the bundled data in `notebooks-data/` and write the outputs under OUT.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  cargo run --release -- quickstart\n  bullseye quickstart --out /tmp/qs"
)]
pub struct QuickstartArgs {
    /// Output folder
    #[arg(long, value_name = "DIR", default_value = "out/quickstart")]
    pub out: PathBuf,
    /// Folder of the bundled data [default: ./notebooks-data, else the source tree's]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

pub fn run(args: QuickstartArgs) -> anyhow::Result<()> {
    let data = args.data.unwrap_or_else(default_data_dir);
    let report = bullseye::run::quickstart(&data, &args.out)?;
    print!("{report}");
    Ok(())
}

fn default_data_dir() -> PathBuf {
    let here = PathBuf::from("notebooks-data");
    if here.join("quickstart.toml").exists() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("notebooks-data")
    }
}
