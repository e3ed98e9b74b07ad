use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use bullseye::run::job::{self, Job, Observer, RunOptions, Stage, StageRecord};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

/// Run a job file: ingest → train → clv → features → segment → score → select → report, as the
/// job names them, into OUT/<as-of>/ (replaced atomically; a failed run goes to
/// OUT/<as-of>.failed/). Exit codes: 0 success, 2 bad input, 3 drift over the threshold, 4 another
/// bullseye is writing OUT/<as-of>/, 1 other.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  bullseye run notebooks-data/jobs/quickstart.toml\n  \
    bullseye run notebooks-data/jobs/weekly.toml --as-of 1998-04-01 --out /tmp/runs\n  \
    bullseye run /etc/bullseye/weekly.toml --quiet --log-format json   # from cron or systemd"
)]
pub struct RunArgs {
    /// Job file (TOML; see the README's "Jobs" section)
    #[arg(value_name = "JOB.toml")]
    pub job: PathBuf,
    /// Observation date [default: the job's `as_of`, else today]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Output folder [default: the job's `out`]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress and no summary; errors still go to stderr
    #[arg(long, short)]
    pub quiet: bool,
    /// How progress (and any error) is logged on stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Write CSV cells as they are, as the job's `[output] raw_csv = true` (see the README's
    /// "Safety")
    #[arg(long)]
    pub raw_csv: bool,
    /// Seconds to wait while another bullseye writes OUT/<as-of>/ [default: 0, fail at once]
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Progress bars on a terminal, one line per stage otherwise
    Text,
    /// One JSON object per line (events `stage_started`, `stage_finished`, `warning`,
    /// `run_finished`, `run_failed`), errors included, also with --quiet
    Json,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut job = Job::from_file(&args.job)?;
    job.config.output.raw_csv |= args.raw_csv;
    let opts = RunOptions {
        as_of: args.as_of,
        out: args.out.clone(),
        lock_timeout: Duration::from_secs(args.lock_timeout),
    };
    let mode = match (args.quiet, args.log_format) {
        (true, _) => Mode::Quiet,
        (false, LogFormat::Json) => Mode::Json,
        (false, LogFormat::Text) if std::io::stderr().is_terminal() => Mode::Bar,
        (false, LogFormat::Text) => Mode::Lines,
    };
    let progress = Progress {
        mode,
        bar: Mutex::new(None),
    };
    let result = job::run_job(&job, &opts, &progress);
    progress.clear();
    match result {
        Ok(outcome) => {
            if mode == Mode::Json {
                json_line(&serde_json::json!({
                    "event": "run_finished",
                    "exit_status": 0,
                    "dir": outcome.dir.display().to_string(),
                    "seconds": outcome.manifest.total_seconds,
                }));
            }
            if !args.quiet {
                print!("{}", outcome.summary);
                println!(
                    "\nwrote {} ({} files, manifest.json)",
                    outcome.dir.display(),
                    outcome.manifest.outputs.len()
                );
            }
            Ok(())
        }
        // Under `--log-format json` the binary reports the error as a `run_failed` line.
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bar,
    Lines,
    Json,
    Quiet,
}

struct Progress {
    mode: Mode,
    bar: Mutex<Option<ProgressBar>>,
}

fn json_line(v: &serde_json::Value) {
    eprintln!("{v}");
}

fn rows_text(r: &StageRecord) -> String {
    r.rows.map(|n| format!("  {n} rows")).unwrap_or_default()
}

impl Progress {
    fn clear(&self) {
        if let Ok(mut bar) = self.bar.lock() {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
    }
}

impl Observer for Progress {
    fn stage_started(&self, stage: Stage, index: usize, total: usize) {
        match self.mode {
            Mode::Bar => {
                let Ok(mut bar) = self.bar.lock() else { return };
                let b = bar.get_or_insert_with(|| {
                    let b = ProgressBar::new(total as u64);
                    b.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{bar:24}] {pos}/{len} {msg} ({elapsed})",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                b.set_position(index as u64);
                b.set_message(stage.name());
            }
            Mode::Json => json_line(&serde_json::json!({
                "event": "stage_started",
                "stage": stage.name(),
                "index": index + 1,
                "of": total,
            })),
            Mode::Lines | Mode::Quiet => {}
        }
    }

    fn stage_finished(&self, stage: Stage, r: &StageRecord) {
        match self.mode {
            Mode::Bar => {
                if let Ok(bar) = self.bar.lock() {
                    if let Some(b) = bar.as_ref() {
                        b.println(format!(
                            "  {:<9} {:>8.2} s{}",
                            stage,
                            r.seconds,
                            rows_text(r)
                        ));
                        b.inc(1);
                    }
                }
            }
            Mode::Lines => eprintln!("{:<9} {:>8.2} s{}", stage, r.seconds, rows_text(r)),
            Mode::Json => json_line(&serde_json::json!({
                "event": "stage_finished",
                "stage": stage.name(),
                "seconds": r.seconds,
                "rows": r.rows,
            })),
            Mode::Quiet => {}
        }
    }

    fn warning(&self, message: &str) {
        match self.mode {
            Mode::Bar => {
                if let Ok(bar) = self.bar.lock() {
                    match bar.as_ref() {
                        Some(b) => b.println(message),
                        None => eprintln!("{message}"),
                    }
                }
            }
            Mode::Lines => eprintln!("{message}"),
            Mode::Json => json_line(&serde_json::json!({
                "event": "warning",
                "message": message,
            })),
            Mode::Quiet => {}
        }
    }
}
