//! The one error type of every handler: an HTTP answer for the caller (status and message), a
//! redirect (dashboard pages when not signed in), or a runtime failure (500, logged).

use std::fmt;

/// Why a request could not be answered as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Answer with this status and message (`{"error": message}` on the API).
    Status {
        /// HTTP status.
        status: u16,
        /// For the caller.
        message: String,
    },
    /// Answer with a `303 See Other` to this location.
    Redirect(String),
    /// The runtime failed (D1, KV, a Durable Object): 500, and the message is logged only.
    Runtime(String),
}

impl Error {
    /// An answer with `status` and `message`.
    pub fn status(status: u16, message: impl Into<String>) -> Error {
        Error::Status {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::status(400, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Error {
        Error::status(401, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::status(404, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Status { status, message } => write!(f, "{status}: {message}"),
            Error::Redirect(to) => write!(f, "redirect to {to}"),
            Error::Runtime(m) => write!(f, "runtime: {m}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(target_arch = "wasm32")]
impl From<worker::Error> for Error {
    fn from(e: worker::Error) -> Error {
        Error::Runtime(e.to_string())
    }
}

#[cfg(target_arch = "wasm32")]
impl From<Error> for worker::Error {
    fn from(e: Error) -> worker::Error {
        worker::Error::RustError(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Runtime(format!("JSON: {e}"))
    }
}

/// The result of a handler.
pub type Result<T> = std::result::Result<T, Error>;
