use clap::Args;

/// (not wired yet)
#[derive(Debug, Args)]
pub struct SegmentArgs {}

pub fn run(_args: SegmentArgs) -> anyhow::Result<()> {
    Err(bullseye::Error::Usage("`segment` is not wired yet".into()).into())
}
