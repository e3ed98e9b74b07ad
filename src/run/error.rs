//! The run layer's errors, by kind, so that a scheduler (and a test) can tell a bad parameter
//! from a missing input or a bug without reading the message; [`RunError::exit_code`] is the one
//! place that says which kinds are the caller's to fix (2) and which are ours (1).

use std::fmt;
use std::path::PathBuf;

use crate::error::{EXIT_BAD_INPUT, EXIT_FAILURE};
use crate::models::training::TrainingError;
use crate::models::ModelsError;

/// A parameter as the user wrote it: a job file's key or a command's flag or argument, so that a
/// message names what the user can find in their own file or command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// A key of a job file, such as `train.holdout`.
    Key(&'static str),
    /// A command-line flag, such as `--holdout`.
    Flag(&'static str),
    /// A positional argument of a command, such as `KIND`.
    Argument(&'static str),
    /// A parameter the front end does not expose (its library name): only a default reaches
    /// it, so a failure names it as the library does.
    Param(&'static str),
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Key(s) | Setting::Flag(s) | Setting::Argument(s) | Setting::Param(s) => {
                f.write_str(s)
            }
        }
    }
}

/// Which front end gave a group of parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A job file of `bullseye run`.
    Job,
    /// The flags of a command.
    Flags,
}

/// One parameter under its two names: the job file's key and the command's flag (either may be
/// absent where that front end does not set it).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The library's own name, used when the front end at hand does not expose the parameter.
    pub name: &'static str,
    pub key: Option<&'static str>,
    pub flag: Option<&'static str>,
}

impl Param {
    /// The parameter as the given front end names it.
    pub fn named(self, via: Via) -> Setting {
        match (via, self.key, self.flag) {
            (Via::Job, Some(k), _) => Setting::Key(k),
            (Via::Flags, _, Some(f)) => Setting::Flag(f),
            _ => Setting::Param(self.name),
        }
    }
}

/// Any error of the run layer (the commands that read and write files, and `bullseye run`).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A parameter out of its rule, named as the user gave it.
    #[error("`{setting}`: expected {expected}, found {found}")]
    InvalidParameter {
        setting: Setting,
        expected: String,
        found: String,
    },
    /// Two settings or names that cannot both hold.
    #[error("{what}: expected {expected}")]
    Conflict { what: String, expected: String },
    /// A stage of a job whose input no earlier stage of the job produces.
    #[error("stage `{stage}` needs stage `{needs}`; add it to `job.stages`")]
    StageOrder {
        stage: &'static str,
        needs: &'static str,
    },
    /// An input the command or job needs and was not given: a flag, a source table, a key.
    #[error("{what}: {hint}")]
    MissingInput { what: String, hint: String },
    /// A table without the columns the step needs.
    #[error("{table} lacks {columns}{hint}")]
    MissingColumn {
        table: String,
        /// The missing columns, quoted.
        columns: String,
        /// What to do, or which columns there are (empty or starting with a separator).
        hint: String,
    },
    /// Values of an input that break a rule of the step reading them.
    #[error("{what}: expected {expected}, found {found}")]
    InvalidData {
        what: String,
        expected: String,
        found: String,
    },
    /// A model (or version) the command or job names that the registry does not hold.
    #[error("{what}{hint}")]
    ModelNotFound { what: String, hint: String },
    /// A file that reads but does not meet its format's rules.
    #[error("`{}`: {message}", path.display())]
    InvalidFile { path: PathBuf, message: String },
    /// A job file that does not parse.
    #[error("job `{}`: {message}", path.display())]
    InvalidJob { path: PathBuf, message: String },
    /// An error about a job file's content, named with the file.
    #[error("job `{}`: {error}", path.display())]
    InJob { path: PathBuf, error: Box<RunError> },
    /// An error about one input file, named with the file.
    #[error("`{}`: {error}", path.display())]
    InFile { path: PathBuf, error: Box<RunError> },
    /// A models error about the caller's rows or model (see [`ModelsError::is_bad_input`]).
    #[error(transparent)]
    Model(ModelsError),
    /// Training rows or training refused the caller's tables (see
    /// [`TrainingError::is_bad_input`]).
    #[error(transparent)]
    Training(TrainingError),
    /// A guard rail refused the action; the hint says how to override it.
    #[error("{what}; {hint}")]
    Refused { what: String, hint: String },
    /// A state the code should never reach.
    #[error("{what}; this is a bug")]
    Internal { what: String },
}

impl RunError {
    /// The process exit code: 1 for our bugs and our libraries' failures, 2 for everything the
    /// caller can fix.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::InJob { error, .. } | RunError::InFile { error, .. } => error.exit_code(),
            RunError::Model(e) if !e.is_bad_input() => EXIT_FAILURE,
            RunError::Training(e) if !e.is_bad_input() => EXIT_FAILURE,
            RunError::Internal { .. } => EXIT_FAILURE,
            _ => EXIT_BAD_INPUT,
        }
    }

    /// The error named with the input file it is about.
    pub fn in_file(self, path: impl Into<PathBuf>) -> RunError {
        RunError::InFile {
            path: path.into(),
            error: Box::new(self),
        }
    }

    /// The error named with the job file it is about.
    pub fn in_job(self, path: impl Into<PathBuf>) -> RunError {
        RunError::InJob {
            path: path.into(),
            error: Box::new(self),
        }
    }

    /// A parameter out of its rule.
    pub fn invalid(
        setting: Setting,
        expected: impl Into<String>,
        found: impl fmt::Display,
    ) -> Self {
        RunError::InvalidParameter {
            setting,
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// An input that was not given, and how to give it.
    pub fn missing(what: impl Into<String>, hint: impl Into<String>) -> Self {
        RunError::MissingInput {
            what: what.into(),
            hint: hint.into(),
        }
    }

    /// A state the code should never reach.
    pub fn internal(what: impl Into<String>) -> Self {
        RunError::Internal { what: what.into() }
    }
}

/// A training error as a run error, so that the file it came from can be named
/// ([`RunError::in_file`]); a models error stays [`RunError::Model`] and a feature error the
/// features layer's own, as they were before the rows moved down to `models`.
impl From<TrainingError> for crate::Error {
    fn from(e: TrainingError) -> Self {
        match e {
            TrainingError::Features(e) => crate::Error::Features(e),
            TrainingError::Model(e) => crate::Error::Run(RunError::Model(e)),
            e => crate::Error::Run(RunError::Training(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_is_named_as_its_front_end_names_it() {
        let p = Param {
            name: "horizon_days",
            key: Some("train.churn_horizon_days"),
            flag: Some("--horizon-days"),
        };
        assert_eq!(p.named(Via::Job), Setting::Key("train.churn_horizon_days"));
        assert_eq!(p.named(Via::Flags), Setting::Flag("--horizon-days"));
        let flag_only = Param { key: None, ..p };
        assert_eq!(flag_only.named(Via::Job), Setting::Param("horizon_days"));
    }

    #[test]
    fn bugs_exit_1_and_the_rest_2_also_when_wrapped() {
        let bug = RunError::internal("x");
        assert_eq!(bug.to_string(), "x; this is a bug");
        assert_eq!(bug.in_file("f.csv").exit_code(), EXIT_FAILURE);
        let bad = RunError::invalid(Setting::Key("train.holdout"), "a share", 0);
        assert_eq!(
            bad.to_string(),
            "`train.holdout`: expected a share, found 0"
        );
        let wrapped = bad.in_job("job.toml");
        assert_eq!(wrapped.exit_code(), EXIT_BAD_INPUT);
        assert_eq!(
            wrapped.to_string(),
            "job `job.toml`: `train.holdout`: expected a share, found 0"
        );
    }
}
