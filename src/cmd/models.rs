use std::path::PathBuf;

use bullseye::run::models as m;
use clap::{Args, Subcommand};

/// The model registry: list, show, promote and compare versions.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye models list\n  \
    bullseye models show response\n  \
    bullseye models promote response v0002\n  \
    bullseye models diff response v0001 v0002")]
pub struct ModelsArgs {
    /// Model registry root
    #[arg(long, value_name = "DIR", default_value = m::DEFAULT_REGISTRY, global = true)]
    pub registry: PathBuf,
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every version per kind with its headline holdout metric; `*` marks production
    List,
    /// Report, metrics by decile and feature schema of KIND (production, else latest) or KIND/VERSION
    Show {
        #[arg(value_name = "KIND[/VERSION]")]
        model: String,
    },
    /// Put VERSION of KIND in production (`score --model KIND` uses it)
    Promote {
        #[arg(value_name = "KIND")]
        kind: String,
        #[arg(value_name = "VERSION")]
        version: String,
    },
    /// Holdout metrics of two versions side by side
    Diff {
        #[arg(value_name = "KIND")]
        kind: String,
        #[arg(value_name = "V1")]
        v1: String,
        #[arg(value_name = "V2")]
        v2: String,
    },
}

pub fn run(args: ModelsArgs) -> anyhow::Result<()> {
    let reg = &args.registry;
    match args.command {
        ModelsCommand::List => print!("{}", m::render_list(&m::list(reg)?)),
        ModelsCommand::Show { model } => print!("{}", m::show(reg, &model)?),
        ModelsCommand::Promote { kind, version } => {
            let dir = m::promote(reg, &kind, &version)?;
            println!("{kind}: {version} is now in production ({})", dir.display());
        }
        ModelsCommand::Diff { kind, v1, v2 } => print!("{}", m::diff(reg, &kind, &v1, &v2)?),
    }
    Ok(())
}
