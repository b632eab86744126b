//! `switchyard instances list|add|test|remove`: the registered instances, their live status, and
//! adding one only once it answers (its password to the keychain, or kept in the environment).

use std::io::BufRead;

use switchyard_studio::{InstanceInput, InstanceStatus, Registry};

use crate::out::{fail, Colour, Failed, Out};
use crate::registry::{env_password, named, password_env};

/// It answers and took the credentials (a wrong password still shows it is up, with an error).
fn usable(s: &InstanceStatus) -> bool {
    s.online && s.error.is_none()
}

fn status_words(out: &Out, s: &InstanceStatus) -> String {
    if let (true, Some(e)) = (s.online, &s.error) {
        out.paint(&format!("online, but: {}", e.message), Colour::Red)
    } else if s.online {
        let latency = s.latency_ms.map(|l| format!(" ({l:.0} ms)")).unwrap_or_default();
        out.paint(&format!("online {}{latency}", s.version.as_deref().unwrap_or("")), Colour::Green)
    } else {
        out.paint(&format!("offline: {}", s.error.as_ref().map(|e| e.message.as_str()).unwrap_or("no answer")), Colour::Red)
    }
}

pub async fn list(registry: &Registry, out: &Out, json: bool) -> Result<(), Failed> {
    let specs = registry.list()?;
    let statuses = futures_util::future::join_all(specs.iter().map(|s| registry.status(&s.id))).await;
    let mut rows = Vec::new();
    for (spec, status) in specs.iter().zip(statuses) {
        let status = status?;
        if json {
            rows.push(serde_json::json!({"name": spec.name, "url": spec.url, "kind": spec.kind, "online": status.online, "version": status.version, "serverKind": status.server_kind, "error": status.error.map(|e| e.message)}));
        } else {
            out.line(&format!("{}\t{}\t{}", spec.name, spec.url, status_words(out, &status)))?;
        }
    }
    if json {
        out.line(&serde_json::Value::from(rows).to_string())?;
    } else if specs.is_empty() {
        eprintln!("switchyard: no instances are registered (add one with `switchyard instances add NAME URL --username USER`)");
    }
    Ok(())
}

/// The password for a new instance: from the environment (then never stored), else the first
/// line of stdin (`--password-stdin`, then kept in the keychain).
fn password(name: &str, stdin: bool) -> Result<(String, bool), Failed> {
    if let Some(pw) = env_password(name) {
        return Ok((pw, false));
    }
    if !stdin {
        return fail(format!("give the password on stdin with --password-stdin, or in {}", password_env(name)));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Failed::Error(format!("stdin: {e}")))?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        return fail("the password read from stdin is empty");
    }
    Ok((pw, true))
}

pub struct Add {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password_stdin: bool,
    pub no_test: bool,
}

pub async fn add(registry: &Registry, out: &Out, json: bool, a: Add) -> Result<(), Failed> {
    let (pw, keep) = password(&a.name, a.password_stdin)?;
    let input = InstanceInput { id: None, name: a.name.clone(), url: a.url, username: a.username, password: Some(pw), tls: Default::default() };
    if !a.no_test {
        let status = registry.test(input.clone()).await?;
        if !usable(&status) {
            let why = status.error.map(|e| e.message).unwrap_or_else(|| "no answer".into());
            return fail(format!("'{}' was not added: {why} (--no-test adds it anyway)", a.name));
        }
    }
    let spec = if keep { registry.save_remote(input)? } else { registry.register_remote(input)? };
    if json {
        out.line(&serde_json::json!({"name": spec.name, "url": spec.url, "id": spec.id, "password": if keep { "keychain" } else { "environment" }}).to_string())
    } else {
        let kept = if keep { "its password is in the keychain".to_string() } else { format!("its password is read from {} each time", password_env(&spec.name)) };
        out.line(&format!("added {} ({}); {kept}", spec.name, spec.url))
    }
}

/// Exit 0 when it answers, 1 when not.
pub async fn test(registry: &Registry, out: &Out, json: bool, name: &str) -> Result<(), Failed> {
    let spec = named(registry, name)?;
    let status = registry.status(&spec.id).await?;
    if json {
        out.line(&serde_json::to_string(&status)?)?;
    } else {
        out.line(&format!("{}\t{}", spec.name, status_words(out, &status)))?;
    }
    match (status.online, usable(&status)) {
        (_, true) => Ok(()),
        (true, false) => fail(format!("'{}' answers but refuses these credentials", spec.name)),
        (false, _) => fail(format!("'{}' does not answer", spec.name)),
    }
}

pub fn remove(registry: &Registry, out: &Out, name: &str) -> Result<(), Failed> {
    let spec = named(registry, name)?;
    if spec.kind == switchyard_studio::InstanceKind::Local {
        return fail(format!("'{name}' is a local instance of the studio: remove it there (that stops it and deletes its data)"));
    }
    match registry.remove(&spec.id) {
        Ok(_) => {}
        // Registered without its password (it comes from the environment): the keychain,
        // unavailable here, holds nothing of it.
        Err(switchyard_studio::Error::Keychain(_)) if env_password(name).is_some() => {
            registry.unregister(&spec.id)?;
        }
        Err(e) => return Err(e.into()),
    }
    out.line(&format!("removed {}", spec.name))
}
