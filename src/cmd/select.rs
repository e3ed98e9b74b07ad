use clap::Args;

/// (not wired yet)
#[derive(Debug, Args)]
pub struct SelectArgs {}

pub fn run(_args: SelectArgs) -> anyhow::Result<()> {
    Err(bullseye::Error::Usage("`select` is not wired yet".into()).into())
}
