//! The engine's error type for events, JSON and profiles.

use core::fmt;

/// What went wrong, broadly. Grows over time, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Input is not well-formed JSON.
    Json,
    /// Input is JSON but not a valid event, profile or value of the expected shape.
    Invalid,
    /// Input exceeds a size limit.
    TooLarge,
}

/// An error from the engine, with a message written for the person who sent the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }

    /// The broad kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the input was not well-formed JSON.
    pub fn is_json(&self) -> bool {
        self.kind == ErrorKind::Json
    }

    /// True when the input was well-formed but not valid.
    pub fn is_invalid(&self) -> bool {
        self.kind == ErrorKind::Invalid
    }

    /// True when the input exceeded a size limit.
    pub fn is_too_large(&self) -> bool {
        self.kind == ErrorKind::TooLarge
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
