use clap::Args;

/// (not wired yet)
#[derive(Debug, Args)]
pub struct TrainArgs {}

pub fn run(_args: TrainArgs) -> anyhow::Result<()> {
    Err(bullseye::Error::Usage("`train` is not wired yet".into()).into())
}
