//! Passwords in the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager).
//! There is no fallback store: without a keychain a password is refused, never written in clear.

use crate::error::{Error, Result};

/// The keychain service name under which the studio keeps instance passwords.
pub const SERVICE: &str = "switchyard-studio";

#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain { service: SERVICE.to_string() }
    }
}

fn unavailable(e: keyring::Error) -> Error {
    Error::Keychain(format!("no usable OS keychain, so the password was not saved ({e})"))
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Keychain { service: service.into() }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(unavailable)
    }

    /// Whether a keychain answers; the error says why not.
    pub fn check(&self) -> std::result::Result<(), String> {
        match self.entry("__probe__").and_then(|e| match e.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }) {
            Ok(()) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn set(&self, account: &str, password: &str) -> Result<()> {
        self.entry(account)?.set_password(password).map_err(unavailable)
    }

    /// `None` when nothing is stored for `account`.
    pub fn get(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
