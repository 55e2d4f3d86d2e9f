//! The engine's typed errors. The JNI bridge maps [`Error::kind`] to a specific Java exception class, so
//! classification never depends on message text. Messages never contain credentials.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The writer or client configuration is invalid; every problem is listed.
    #[error("invalid configuration: {}", ProblemList(.0))]
    InvalidConfig(Vec<ConfigProblem>),

    /// The input's schema does not fit the feature group; every problem is listed.
    #[error("the input does not match the feature group: {}", ProblemList(.0))]
    Schema(Vec<SchemaProblem>),

    /// A DescribeFeatureGroup response we cannot use (missing members, unknown types).
    #[error("invalid feature group definition: {0}")]
    FeatureGroup(String),

    /// The feature group cannot take this write now (its status, or a target store it does not have); every
    /// reason is listed.
    #[error("feature group '{group}' cannot take this write: {}", .reasons.join("; "))]
    GroupNotWritable { group: String, reasons: Vec<String> },

    /// The input could not be read (bad Arrow IPC, unsupported Arrow type at runtime).
    #[error("invalid input: {0}")]
    Input(String),

    /// The service answered a whole call (not one record) with a terminal error.
    #[error("{operation} failed: {code} (HTTP {status}): {message}")]
    Service {
        operation: &'static str,
        code: String,
        status: u16,
        message: String,
    },

    /// No answer from the service: connection, TLS or timeout, after the retries allowed.
    #[error("{operation} failed: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },

    /// Credentials could not be resolved or signing failed.
    #[error("credentials: {0}")]
    Credentials(String),

    /// The writer was aborted; nothing more is accepted.
    #[error("the writer was aborted")]
    Aborted,

    /// A bug: a broken invariant or a caught panic.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The three families of errors a caller reacts to differently (and the JNI bridge maps to three Java
/// exception classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fix the job: configuration, schema, input.
    Validation,
    /// The service or the network refused; the message carries the service's code.
    Service,
    /// A bug in this library.
    Internal,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidConfig(_)
            | Error::Schema(_)
            | Error::FeatureGroup(_)
            | Error::GroupNotWritable { .. }
            | Error::Input(_) => ErrorKind::Validation,
            Error::Service { .. } | Error::Transport { .. } | Error::Credentials(_) | Error::Aborted => {
                ErrorKind::Service
            }
            Error::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// One reason an input schema does not fit a feature group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaProblem {
    /// The column (or feature) concerned, when there is one.
    pub column: Option<String>,
    /// A stable rule id, e.g. `missing_record_identifier`, `unknown_column`, `incompatible_type`.
    pub rule: String,
    pub message: String,
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column '{}': {} [{}]", column, self.message, self.rule),
            None => write!(f, "{} [{}]", self.message, self.rule),
        }
    }
}

/// One reason a configuration cannot be used, named by the option (or setting) concerned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    pub option: String,
    pub message: String,
}

impl ConfigProblem {
    pub fn new(option: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            option: option.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.message)
    }
}

struct ProblemList<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for ProblemList<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
