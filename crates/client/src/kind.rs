//! Which server an instance runs, read from its `registration_info`, and how answers of that
//! server are read: the one place where HarperDB 4.7's quirks become the studio's errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_protocol::ErrorCode;

/// The servers the studio speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServerKind {
    #[serde(rename = "switchyard-node")]
    SwitchyardNode,
    #[serde(rename = "harperdb")]
    HarperDb,
}

impl ServerKind {
    /// The kind from a `registration_info` answer: switchyard-node names itself in `kind`;
    /// HarperDB 4.x answers `{"version": "4.…", "deprecated": true}`. Anything else is refused,
    /// not guessed.
    pub fn from_registration(answer: &Value) -> Result<ServerKind, String> {
        match answer.get("kind").and_then(Value::as_str) {
            Some("switchyard-node") => return Ok(ServerKind::SwitchyardNode),
            Some(other) => return Err(format!("registration_info names an unknown server kind '{other}'")),
            None => {}
        }
        match answer.get("version").and_then(Value::as_str) {
            Some(v) if v.starts_with("4.") => Ok(ServerKind::HarperDb),
            Some(v) => Err(format!("registration_info answers version '{v}' without a kind: not switchyard-node, and not a HarperDB 4.x")),
            None => Err(format!("registration_info answers neither a kind nor a version: {answer}")),
        }
    }

    /// Every kind, in the order the studio lists them.
    pub const ALL: [ServerKind; 2] = [ServerKind::SwitchyardNode, ServerKind::HarperDb];

    /// The kind named by `name` (as `name()` spells it).
    pub fn from_name(name: &str) -> Option<ServerKind> {
        ServerKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The name shown to the user and sent over IPC (`server_kind`).
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::SwitchyardNode => "switchyard-node",
            ServerKind::HarperDb => "harperdb",
        }
    }
}

/// What an answer of `kind` with `status` and `body` means, where the server's own status says
/// something else: the code it should have had and why. `None`: take the status as it is.
///
/// HarperDB 4.7 gives no error codes, only statuses and English messages, so its quirks can
/// only be recognised by those messages; nothing outside this function reads them.
pub fn reinterpret(kind: Option<ServerKind>, status: u16, body: &Value) -> Option<(ErrorCode, String)> {
    if kind != Some(ServerKind::HarperDb) {
        return None;
    }
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    if status == 500 {
        let message = text("error")?;
        // Bad input answered 500 (reference §1.1): a missing or unknown field is the caller's.
        const BAD_INPUT: [&str; 4] = ["is required", "unknown attribute", "unknown column", "is not a defined attribute"];
        if BAD_INPUT.iter().any(|p| message.contains(p)) {
            return Some((ErrorCode::BadRequest, format!("{message} (HarperDB answers this bad input with 500)")));
        }
        // get_component_file of a file that does not exist.
        if message.starts_with("Component file not found") {
            return Some((ErrorCode::NotFound, format!("{message} (HarperDB answers this with 500)")));
        }
        // add_node answers 500 when the peer it must reach first (to have its certificate
        // signed) cannot be reached or refuses: the peer's failure, not HarperDB's.
        if let Some(code) = peer_failure(message) {
            return Some((code, format!("the peer refused or could not be reached: {message}")));
        }
        return None;
    }
    if (200..300).contains(&status) {
        // add_node and update_node report a failure on the peer inside a 200 (reference §2.1):
        // the node record is stored here, the peer was not updated.
        let message = text("message")?;
        let (_, reason) = message.split_once("but there was an error")?;
        let reason = reason.trim_start_matches([':', ' ']).trim();
        let code = peer_failure(reason).unwrap_or(ErrorCode::BadRequest);
        return Some((code, format!("HarperDB stored the node but could not update the peer: {reason} (it answered 200: {message})")));
    }
    None
}

/// The code of a peer's failure HarperDB relays in words: refused credentials or no connection.
fn peer_failure(reason: &str) -> Option<ErrorCode> {
    if !reason.contains("Error returned from") && !reason.contains("Connection closed") {
        return None;
    }
    if reason.contains("Unauthorized") {
        Some(ErrorCode::Unauthorized)
    } else if ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET"].iter().any(|c| reason.contains(c)) {
        Some(ErrorCode::Unreachable)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_kind_is_written_as_its_name() {
        for k in ServerKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.name()));
            assert_eq!(serde_json::from_value::<ServerKind>(json!(k.name())).unwrap(), k);
        }
    }

    #[test]
    fn the_kind_is_read_from_registration_info_and_anything_else_is_refused() {
        assert_eq!(ServerKind::from_registration(&json!({"kind": "switchyard-node", "version": "0.1.0"})), Ok(ServerKind::SwitchyardNode));
        assert_eq!(ServerKind::from_registration(&json!({"version": "4.7.29", "deprecated": true})), Ok(ServerKind::HarperDb));
        assert!(ServerKind::from_registration(&json!({"version": "5.0.0"})).is_err());
        assert!(ServerKind::from_registration(&json!({"kind": "postgres"})).is_err());
        assert!(ServerKind::from_registration(&json!({})).is_err());
    }

    #[test]
    fn harperdb_quirks_become_the_codes_they_should_have_had() {
        let hdb = Some(ServerKind::HarperDb);
        let (code, message) = reinterpret(hdb, 500, &json!({"error": "'get_attributes' is required"})).expect("bad input");
        assert_eq!(code, ErrorCode::BadRequest);
        assert!(message.contains("'get_attributes' is required"), "{message}");
        assert_eq!(reinterpret(hdb, 500, &json!({"error": "out of memory"})), None, "a real 500 stays one");
        let missing = json!({"error": "Component file not found 'switchyard_export/resources.js'"});
        assert_eq!(reinterpret(hdb, 500, &missing).map(|r| r.0), Some(ErrorCode::NotFound));
        let csr = json!({"error": "Error returned from wss://localhost:1: connect ECONNREFUSED 127.0.0.1:1 and connection was required to sign certificate"});
        assert_eq!(reinterpret(hdb, 500, &csr).map(|r| r.0), Some(ErrorCode::Unreachable));
        let peer = json!({"message": "Successfully added 'wss://127.0.0.1:1' to cluster but there was an error updating target node: Error returned from wss://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1"});
        assert_eq!(reinterpret(hdb, 200, &peer).map(|r| r.0), Some(ErrorCode::Unreachable));
        let auth = json!({"message": "Successfully added 'wss://localhost:9933' to cluster but there was an error updating target node: Error returned from wss://localhost:9933: Connection closed Unauthorized 1008"});
        assert_eq!(reinterpret(hdb, 200, &auth).map(|r| r.0), Some(ErrorCode::Unauthorized));
        assert_eq!(reinterpret(hdb, 200, &json!({"message": "Successfully added 'wss://a:1' to cluster"})), None);
        // switchyard-node's answers are taken as they are.
        assert_eq!(reinterpret(Some(ServerKind::SwitchyardNode), 200, &peer), None);
        assert_eq!(reinterpret(None, 500, &json!({"error": "'x' is required"})), None);
    }
}
