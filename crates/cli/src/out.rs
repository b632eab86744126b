//! What the command line writes: stdout lines that end quietly when the reader goes away (a
//! closed pipe is a normal end, never a panic), colour only on a terminal without `NO_COLOR`,
//! progress on stderr only when stderr is a terminal.

use std::io::{IsTerminal, Write};

/// Why a command ended early: an error to say (exit 1), or the reader of stdout went away (exit 0).
pub enum Failed {
    Error(String),
    Closed,
}

impl<E: std::fmt::Display> From<E> for Failed {
    fn from(e: E) -> Failed {
        Failed::Error(e.to_string())
    }
}

pub fn fail<T>(why: impl Into<String>) -> Result<T, Failed> {
    Err(Failed::Error(why.into()))
}

#[derive(Clone, Copy)]
pub enum Colour {
    Green,
    Red,
    Yellow,
    Dim,
}

pub struct Out {
    colour: bool,
    progress: bool,
}

impl Out {
    pub fn new() -> Out {
        // https://no-color.org: present and not empty.
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Out { colour: !no_colour && std::io::stdout().is_terminal(), progress: std::io::stderr().is_terminal() }
    }

    /// One line on stdout; `Closed` once nobody reads it.
    pub fn line(&self, text: &str) -> Result<(), Failed> {
        let mut out = std::io::stdout().lock();
        match writeln!(out, "{text}").and_then(|_| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failed::Closed),
            Err(e) => Err(Failed::Error(format!("stdout: {e}"))),
        }
    }

    pub fn paint(&self, text: &str, colour: Colour) -> String {
        if !self.colour {
            return text.to_string();
        }
        let code = match colour {
            Colour::Green => "32",
            Colour::Red => "31",
            Colour::Yellow => "33",
            Colour::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// A progress line on stderr, rewritten in place; nothing when stderr is not a terminal.
    pub fn progress(&self, text: &str) {
        if self.progress {
            eprint!("\r\x1b[K{text}");
        }
    }

    /// Clears the progress line.
    pub fn progress_done(&self) {
        if self.progress {
            eprint!("\r\x1b[K");
        }
    }
}
