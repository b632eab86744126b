//! The shell's error: the studio's, or the window's; serialised across IPC as `{code, message}`.

use serde::ser::SerializeStruct;
use switchyard_studio::UiError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Studio(#[from] switchyard_studio::Error),
}

impl Error {
    pub fn ui(&self) -> UiError {
        match self {
            Error::Studio(e) => e.into(),
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
