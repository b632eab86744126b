//! The `sql` operation: parsed with sqlparser, checked against a whitelist and the caller's
//! permissions, and run by the store (`store/sql.rs` translates it into SQLite). INSERT ...
//! VALUES becomes a batch write like insert's.

use serde_json::{Map, Value};
use sqlparser::ast::{Expr, FromTable, ObjectName, Query, Select, SetExpr, Statement, TableFactor, TableObject, TableWithJoins, UnaryOperator, Value as SqlValue};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use switchyard_protocol::ops::Sql;
use switchyard_protocol::DEFAULT_DATABASE;

use super::data::{delete_reply, write_reply};
use super::Reply;
use crate::auth::{Access, Principal};
use crate::error::{Error, Result};
use crate::store::sql::{name_parts, unsupported};
use crate::store::{TableMeta, WriteMode};
use crate::Node;

pub async fn run(node: &Node, who: &Principal, req: Sql) -> Result<Reply> {
    let mut statements = Parser::parse_sql(&GenericDialect {}, &req.sql).map_err(|e| {
        Error::bad(format!("Invalid SQL at: {}. Please ensure your SQL is valid. {e}", req.sql))
    })?;
    if statements.len() != 1 {
        return Err(Error::bad(format!("expected exactly one SQL statement, got {}", statements.len())));
    }
    match statements.remove(0) {
        Statement::Query(q) => select(node, who, &q).await,
        Statement::Insert(ins) => {
            let name = match &ins.table {
                TableObject::TableName(n) => n.clone(),
                other => return Err(unsupported(other)),
            };
            let meta = table(node, who, &name, &[Access::Insert])?;
            insert(node, who, &meta, &ins.columns, ins.source.as_deref()).await
        }
        Statement::Update { table: t, assignments, from, selection, returning, .. } => {
            if from.is_some() || returning.is_some() {
                return Err(unsupported("UPDATE ... FROM / RETURNING"));
            }
            let (meta, alias) = from_table(node, who, &t, &[Access::Update])?;
            update(node, who, &meta, alias, &assignments, selection.as_ref()).await
        }
        Statement::Delete(del) => {
            let tables = match &del.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            if tables.len() != 1 || del.using.is_some() || del.returning.is_some() {
                return Err(unsupported("DELETE must name exactly one table, without USING or RETURNING"));
            }
            let (meta, alias) = from_table(node, who, &tables[0], &[Access::Delete])?;
            delete(node, who, &meta, alias, del.selection.as_ref()).await
        }
        other => Err(Error::bad(format!(
            "only SELECT, INSERT, UPDATE and DELETE are supported by the sql operation, not: {}",
            other.to_string().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        ))),
    }
}

/// The table a statement names, for `who` needing `needs`: the permission is checked first, by
/// name, so a user without it is refused alike whether the table exists or not.
fn table(node: &Node, who: &Principal, name: &ObjectName, needs: &[Access]) -> Result<std::sync::Arc<TableMeta>> {
    let parts = name_parts(name);
    let (db, t) = match parts.as_slice() {
        [t] => (DEFAULT_DATABASE, t.as_str()),
        [db, t] => (db.as_str(), t.as_str()),
        _ => return Err(Error::bad(format!("table name '{name}' must be database.table"))),
    };
    who.require(db, t, needs)?;
    node.store.table(db, t)
}

fn from_table(node: &Node, who: &Principal, t: &TableWithJoins, needs: &[Access]) -> Result<(std::sync::Arc<TableMeta>, Option<String>)> {
    if !t.joins.is_empty() {
        return Err(unsupported("joins"));
    }
    match &t.relation {
        TableFactor::Table { name, alias, args: None, .. } => Ok((table(node, who, name, needs)?, alias.as_ref().map(|a| a.name.value.clone()))),
        other => Err(unsupported(format!("FROM {other}"))),
    }
}

async fn select(node: &Node, who: &Principal, q: &Query) -> Result<Reply> {
    if q.with.is_some() || q.fetch.is_some() || !q.locks.is_empty() {
        return Err(unsupported("WITH, FETCH or locking clauses"));
    }
    let s: &Select = match q.body.as_ref() {
        SetExpr::Select(s) => s,
        other => return Err(unsupported(format!("{}", other).chars().take(60).collect::<String>())),
    };
    if s.from.len() != 1 {
        return Err(Error::bad("SELECT must read FROM exactly one table (database.table)"));
    }
    let (meta, alias) = from_table(node, who, &s.from[0], &[Access::Read])?;
    Ok(Reply::Json(Value::Array(node.store.sql_select(&meta, alias, q, s).await?)))
}

/// A constant of INSERT ... VALUES: literals, signed numbers, NULL, booleans.
fn constant(e: &Expr) -> Result<Value> {
    match e {
        Expr::Value(v) => match &v.value {
            SqlValue::Number(s, _) => s
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| s.parse::<f64>().map(Value::from))
                .map_err(|_| Error::bad(format!("bad number {s}"))),
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => Ok(Value::String(s.clone())),
            SqlValue::Boolean(b) => Ok(Value::Bool(*b)),
            SqlValue::Null => Ok(Value::Null),
            other => Err(unsupported(format!("value {other}"))),
        },
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => match constant(expr)? {
            Value::Number(n) => Ok(n.as_i64().map(|i| Value::from(-i)).unwrap_or_else(|| Value::from(-n.as_f64().unwrap_or(0.0)))),
            _ => Err(Error::bad("'-' applies to numbers only")),
        },
        Expr::Nested(x) => constant(x),
        other => Err(Error::bad(format!("INSERT values must be constants, got {other}"))),
    }
}

async fn insert(node: &Node, who: &Principal, meta: &TableMeta, columns: &[sqlparser::ast::Ident], source: Option<&Query>) -> Result<Reply> {
    let Some(SetExpr::Values(values)) = source.map(|s| s.body.as_ref()) else {
        return Err(unsupported("INSERT without VALUES"));
    };
    if columns.is_empty() {
        return Err(Error::bad("INSERT must name its columns: INSERT INTO db.table (a, b) VALUES (...)"));
    }
    let mut records = Vec::with_capacity(values.rows.len());
    for (i, row) in values.rows.iter().enumerate() {
        if row.len() != columns.len() {
            return Err(Error::bad(format!("row {} has {} values for {} columns", i + 1, row.len(), columns.len())));
        }
        let mut rec = Map::new();
        for (c, e) in columns.iter().zip(row) {
            rec.insert(c.value.clone(), constant(e)?);
        }
        records.push(Value::Object(rec));
    }
    let total = records.len();
    let out = node.store.write(&meta.database, &meta.name, WriteMode::Insert, records, Some(&who.username)).await?;
    write_reply(WriteMode::Insert, total, out.written, out.skipped)
}

async fn update(
    node: &Node,
    who: &Principal,
    meta: &TableMeta,
    alias: Option<String>,
    assignments: &[sqlparser::ast::Assignment],
    selection: Option<&Expr>,
) -> Result<Reply> {
    let out = node.store.sql_update(meta, alias, assignments, selection, Some(&who.username)).await?;
    let total = out.written.len();
    write_reply(WriteMode::Update, total, out.written, out.skipped)
}

async fn delete(node: &Node, who: &Principal, meta: &TableMeta, alias: Option<String>, selection: Option<&Expr>) -> Result<Reply> {
    let out = node.store.sql_delete(meta, alias, selection, Some(&who.username)).await?;
    let total = out.deleted.len() + out.skipped.len();
    delete_reply(total, out.deleted, out.skipped)
}
