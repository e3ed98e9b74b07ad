use clap::Args;

/// (not wired yet)
#[derive(Debug, Args)]
pub struct ScoreArgs {}

pub fn run(_args: ScoreArgs) -> anyhow::Result<()> {
    Err(bullseye::Error::Usage("`score` is not wired yet".into()).into())
}
