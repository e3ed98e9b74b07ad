use std::path::PathBuf;

use bullseye::run::models as m;
use clap::{Args, Subcommand};

/// The model registry: list, show, promote and compare versions.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    bullseye models list\n  \
    bullseye models show response\n  \
    bullseye models promote response v0002 --note \"beats v0001\"\n  \
    bullseye models card response@v0002\n  \
    bullseye models tag response v0002 candidate --note \"l2 = 10\"\n  \
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
    /// Put VERSION of KIND in production (`score --model KIND` uses it); a weak model, or one
    /// worse than production on the same holdout, is refused without --force
    Promote {
        #[arg(value_name = "KIND")]
        kind: String,
        #[arg(value_name = "VERSION")]
        version: String,
        /// Promote a weak or worse model anyway
        #[arg(long)]
        force: bool,
        /// Who promotes, for the registry's history [default: $USER]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Why, for the registry's history
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// The model card of KIND (production, else latest) or KIND@VERSION: purpose, data, holdout,
    /// features, settings, metrics with 95% intervals, calibration, guard rails, limits, history
    Card {
        #[arg(value_name = "KIND[@VERSION]")]
        model: String,
        /// Print the card as JSON instead of Markdown
        #[arg(long)]
        json: bool,
        /// Also write it to this file
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Tag VERSION of KIND (and add a note); `list` and `show` print them
    Tag {
        #[arg(value_name = "KIND")]
        kind: String,
        #[arg(value_name = "VERSION")]
        version: String,
        #[arg(value_name = "TAG")]
        tags: Vec<String>,
        /// A note to keep with the version
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
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
        ModelsCommand::Promote {
            kind,
            version,
            force,
            by,
            note,
        } => {
            let p = m::promote(reg, &kind, &version, force, by.as_deref(), note.as_deref())?;
            for n in &p.notes {
                eprintln!("note: {n}");
            }
            println!(
                "{kind}: {version} is now in production ({})",
                p.dir.display()
            );
        }
        ModelsCommand::Tag {
            kind,
            version,
            tags,
            note,
        } => {
            let a = m::tag(reg, &kind, &version, &tags, note.as_deref())?;
            println!(
                "{kind}/{version}: tags [{}], {} notes",
                a.tags.join(", "),
                a.notes.len()
            );
        }
        ModelsCommand::Card { model, json, out } => {
            let text = m::card(reg, &model, json)?;
            if let Some(path) = out {
                bullseye::io::write_string_atomic(&path, &text)?;
            }
            print!("{text}");
        }
        ModelsCommand::Diff { kind, v1, v2 } => print!("{}", m::diff(reg, &kind, &v1, &v2)?),
    }
    Ok(())
}
