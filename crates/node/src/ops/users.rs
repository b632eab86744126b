//! Users, roles and tokens: add/alter/drop/list users and roles, user_info, tokens, login.

use serde_json::{json, Value};
use switchyard_protocol::ops::{RoleRef, UserRef};

use super::{parse, Reply};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::Node;

pub async fn dispatch(node: &Node, who: &Principal, op: &str, body: Value) -> Result<Reply> {
    let auth = &node.auth;
    let v = match op {
        "user_info" => auth.user_info(who).await?,
        "create_authentication_tokens" => serde_json::to_value(auth.issue_tokens(who)?).map_err(|e| Error::Internal(e.to_string()))?,
        "login" => json!({ "message": "Login successful" }),
        _ => {
            who.require_super(op)?;
            match op {
                "add_role" => auth.add_role(parse(body)?).await?,
                "alter_role" => auth.alter_role(parse(body)?).await?,
                "drop_role" => auth.drop_role(&parse::<RoleRef>(body)?.id).await?,
                "list_roles" => auth.list_roles().await?,
                "add_user" => auth.add_user(parse(body)?).await?,
                "alter_user" => auth.alter_user(parse(body)?).await?,
                "drop_user" => auth.drop_user(&parse::<UserRef>(body)?.username, &who.username).await?,
                "list_users" => auth.list_users().await?,
                other => return Err(Error::bad(format!("Operation '{other}' not found"))),
            }
        }
    };
    Ok(Reply::Json(v))
}
