//! The engine's error type for events, JSON and profiles.

#[allow(unused_imports)]
use crate::prelude::*;

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

/// An error message: the formatted text everywhere but in the page module (feature `browser` on
/// wasm32), where it is only the short `code` (e.g. `ev3`), so no message text and no formatting
/// code ship to the shopper. The edge validates with the same code and keeps the full message.
macro_rules! message {
    ($code:literal, $($msg:tt)+) => {{
        // The closure is never called, so the page build compiles no formatting for it; it keeps
        // the message's arguments in use.
        #[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
        let m: ::std::string::String = {
            let _ = || ::std::format!($($msg)+);
            ::std::string::String::from($code)
        };
        #[cfg(not(all(feature = "browser", target_arch = "wasm32", target_os = "unknown")))]
        let m: ::std::string::String = ::std::format!($($msg)+);
        m
    }};
}

/// An engine [`Error`] of `kind` with a [`message!`].
macro_rules! error {
    ($kind:expr, $code:literal, $($msg:tt)+) => {
        $crate::Error::new($kind, $crate::error::message!($code, $($msg)+))
    };
}

/// [`error!`] of kind [`ErrorKind::Invalid`].
macro_rules! invalid {
    ($code:literal, $($msg:tt)+) => {
        $crate::error::error!($crate::error::ErrorKind::Invalid, $code, $($msg)+)
    };
}

pub(crate) use {error, invalid, message};

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

    /// The human-readable message (the same text as `Display`). In the page module it is a short
    /// code such as `ev3` instead: the edge validates with the same code and answers with the
    /// full message.
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

impl core::error::Error for Error {}
