//! The studio shell's error, serialised across IPC as `{code, message}`.

use serde::ser::SerializeStruct;
use switchyard_client::studio::UiError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Client(#[from] switchyard_client::Error),
    #[error("the local instance could not start: {0}")]
    Node(#[from] switchyard_node::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the registry file could not be read or written: {0}")]
    Store(String),
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub fn ui(&self) -> UiError {
        match self {
            Error::Client(e) => e.into(),
            Error::Invalid(m) => UiError { code: "bad_request".into(), message: m.clone() },
            Error::Node(_) | Error::Io(_) | Error::Store(_) => UiError { code: "internal".into(), message: self.to_string() },
        }
    }
}

impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ui = self.ui();
        let mut st = s.serialize_struct("UiError", 2)?;
        st.serialize_field("code", &ui.code)?;
        st.serialize_field("message", &ui.message)?;
        st.end()
    }
}
