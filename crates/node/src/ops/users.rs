//! Users, roles and tokens: add/alter/drop/list users and roles, user_info, tokens, login.

use switchyard_protocol::ops::Message;
use switchyard_protocol::Operation;

use super::Reply;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::Node;

pub async fn dispatch(node: &Node, who: &Principal, op: Operation) -> Result<Reply> {
    let auth = &node.auth;
    match op {
        Operation::UserInfo(_) => Reply::of(&auth.user_info(who).await?),
        Operation::CreateAuthenticationTokens(_) => Reply::of(&auth.issue_tokens(who)?),
        Operation::Login(_) => Reply::of(&Message { message: "Login successful".into() }),
        op => {
            who.require_super(op.name())?;
            match op {
                Operation::AddRole(r) => Reply::of(&auth.add_role(r).await?),
                Operation::AlterRole(r) => Reply::of(&auth.alter_role(r).await?),
                Operation::DropRole(r) => Reply::of(&auth.drop_role(&r.id).await?),
                Operation::ListRoles(_) => Reply::of(&auth.list_roles().await?),
                Operation::AddUser(r) => Reply::of(&auth.add_user(r).await?),
                Operation::AlterUser(r) => Reply::of(&auth.alter_user(r).await?),
                Operation::DropUser(r) => {
                    let answer = auth.drop_user(&r.username, &who.username).await?;
                    // Peers that logged in as it can no longer receive from this node.
                    node.acks.forget_user(node, &r.username).await?;
                    node.store.forget_relay(&r.username).await?;
                    Reply::of(&answer)
                }
                Operation::ListUsers(_) => Reply::of(&auth.list_users().await?),
                other => Err(Error::Internal(format!("'{}' is not a user operation", other.name()))),
            }
        }
    }
}
