//! One error type for everything the client can report, with the class a caller
//! (the PHP layer, the outbox) needs to decide what to do next.

use serde::Serialize;
use serde_json::Value;

/// A problem with one field of a payload or of the client options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Where a value sits in a payload, made into text only when an error names it (a valid
/// payload is converted and checked without building a single path string).
#[derive(Clone, Copy)]
pub enum FieldPath<'a> {
    Root(&'a str),
    Key(&'a FieldPath<'a>, &'a str),
    Index(&'a FieldPath<'a>, usize),
}

impl FieldPath<'_> {
    /// `a.b[2].c`; the empty root renders as "" (see [`FieldPath::field`]).
    pub fn render(&self) -> String {
        match self {
            FieldPath::Root(p) => (*p).to_string(),
            FieldPath::Key(parent, key) => match parent.render() {
                p if p.is_empty() => (*key).to_string(),
                p => format!("{p}.{key}"),
            },
            FieldPath::Index(parent, i) => format!("{}[{i}]", parent.field()),
        }
    }

    /// The field name an error carries: "(payload)" for the whole payload.
    pub fn field(&self) -> String {
        match self.render() {
            p if p.is_empty() => "(payload)".to_string(),
            p => p,
        }
    }
}

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("webhook signature header TG-Signature is missing")]
    MissingHeader,
    #[error("webhook signature header is malformed: {0}")]
    MalformedHeader(String),
    #[error("webhook signature does not match the body (wrong secret or altered body)")]
    Mismatch,
    #[error("webhook timestamp is {age} s old, older than the tolerance of {tolerance} s")]
    Stale { age: i64, tolerance: i64 },
    #[error("webhook timestamp is {ahead} s in the future, beyond the tolerance of {tolerance} s")]
    Future { ahead: i64, tolerance: i64 },
    #[error("webhook body is malformed: {0}")]
    MalformedBody(String),
    #[error("webhook secret is empty")]
    EmptySecret,
}

/// Everything that can go wrong between a caller and Trading Grid.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The payload or an option is invalid; nothing was sent (or the server said 422).
    #[error("{}", describe_fields(.errors))]
    Validation { errors: Vec<FieldError> },
    /// Credentials refused or token rejected (401/403).
    #[error("authentication failed: {message}")]
    Auth { message: String },
    /// 429 after every allowed retry.
    #[error("rate limited by Trading Grid; retry after {retry_after:.1} s")]
    RateLimited { retry_after: f64 },
    /// The request may not have reached the server, or no answer came back.
    #[error("transport error: {message}")]
    Transport { message: String, retryable: bool },
    /// 409: the change conflicts with the state on the network.
    #[error("conflict: {message}")]
    Conflict { message: String, problem: Value },
    /// 404.
    #[error("not found: {message}")]
    NotFound { message: String, problem: Value },
    /// Any other error answer.
    #[error("Trading Grid answered {status}: {message}")]
    Api {
        status: u16,
        message: String,
        problem: Value,
    },
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A bug or an impossible state; never the caller's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe_fields(errors: &[FieldError]) -> String {
    match errors {
        [] => "validation failed".to_string(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more invalid field{})",
            first.field,
            first.message,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// The short class name used in batch results and the outbox.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation",
            Error::Auth { .. } => "auth",
            Error::RateLimited { .. } => "rate_limited",
            Error::Transport { .. } => "transport",
            Error::Conflict { .. } => "conflict",
            Error::NotFound { .. } => "not_found",
            Error::Api { .. } => "api",
            Error::Signature(_) => "signature",
            Error::Internal(_) => "internal",
        }
    }

    /// Whether trying the same operation again later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } => true,
            Error::Transport { retryable, .. } => *retryable,
            Error::Api { status, .. } => (500..=599).contains(status),
            Error::Auth { .. } => false,
            _ => false,
        }
    }

    pub fn retry_after(&self) -> Option<f64> {
        match self {
            Error::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Validation { .. } => Some(422),
            Error::Conflict { .. } => Some(409),
            Error::NotFound { .. } => Some(404),
            Error::RateLimited { .. } => Some(429),
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Validation { errors } => errors,
            _ => &[],
        }
    }

    pub fn problem(&self) -> Option<&Value> {
        match self {
            Error::Conflict { problem, .. }
            | Error::NotFound { problem, .. }
            | Error::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_names_first_field_and_counts_the_rest() {
        let e = Error::Validation {
            errors: vec![
                FieldError::new("contactEmail", "must be an e-mail address"),
                FieldError::new("country", "must be ISO 3166-1 alpha-2"),
            ],
        };
        assert_eq!(
            e.to_string(),
            "contactEmail: must be an e-mail address (and 1 more invalid field)"
        );
        assert!(!e.retryable());
        assert_eq!(e.class(), "validation");
    }

    #[test]
    fn only_server_errors_transport_and_429_are_retryable() {
        let api = |status| Error::Api {
            status,
            message: String::new(),
            problem: Value::Null,
        };
        assert!(api(503).retryable());
        assert!(!api(400).retryable());
        assert!(Error::RateLimited { retry_after: 1.0 }.retryable());
        assert!(!Error::Auth {
            message: String::new()
        }
        .retryable());
    }
}
