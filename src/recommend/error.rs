//! The one error type of the recommend module.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// What went wrong, broadly. Grows over time, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not an Affinity model (wrong magic).
    NotAModel,
    /// The model was written by a newer (or unknown) format version.
    Version,
    /// The bytes end before the model does.
    Truncated,
    /// The bytes are a model, but a value inside is out of range or inconsistent.
    Corrupt,
}

/// An error from the recommend module, with a message written for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// The broad kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the bytes do not start with the model magic.
    pub fn is_not_a_model(&self) -> bool {
        self.kind == ErrorKind::NotAModel
    }

    /// True when the format version is not one this build reads.
    pub fn is_version(&self) -> bool {
        self.kind == ErrorKind::Version
    }

    /// True when the bytes stop before the model is complete.
    pub fn is_truncated(&self) -> bool {
        self.kind == ErrorKind::Truncated
    }

    /// True when a value inside the model is out of range.
    pub fn is_corrupt(&self) -> bool {
        self.kind == ErrorKind::Corrupt
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_and_display() {
        let e = Error::new(ErrorKind::Truncated, "model truncated at byte 3");
        assert!(e.is_truncated() && !e.is_corrupt() && !e.is_version() && !e.is_not_a_model());
        assert_eq!(e.to_string(), "model truncated at byte 3");
        assert_eq!(e.kind(), ErrorKind::Truncated);
    }
}
