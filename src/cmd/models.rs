use clap::Args;

/// (not wired yet)
#[derive(Debug, Args)]
pub struct ModelsArgs {}

pub fn run(_args: ModelsArgs) -> anyhow::Result<()> {
    Err(bullseye::Error::Usage("`models` is not wired yet".into()).into())
}
