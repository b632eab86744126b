//! The `sql` operation's statements translated into SQLite over a record table. Literals
//! become bound parameters; identifiers become the key column or JSON paths into the document.
//! SELECT (WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET, aggregates), UPDATE ... SET ...
//! WHERE, DELETE ... WHERE; the statement is parsed and permission-checked in `ops/sql.rs`.

use serde_json::{Map, Value};
use sqlparser::ast::{
    Assignment, AssignmentTarget, Distinct, Expr, GroupByExpr, ObjectName, ObjectNamePart, OrderByKind, Query, Select,
    SelectItem, Value as SqlValue,
};
use sqlx::Row;

use super::{DeleteOutcome, Store, TableMeta, WriteOutcome};
use crate::error::{Error, Result};

mod render;

use render::{has_aggregate, Render};

const AGGREGATES: &[&str] = &["COUNT", "SUM", "AVG", "MIN", "MAX", "TOTAL", "GROUP_CONCAT"];
const SCALARS: &[&str] = &["LOWER", "UPPER", "LENGTH", "ABS", "ROUND", "COALESCE", "IFNULL", "NULLIF", "TRIM", "SUBSTR", "SUBSTRING", "INSTR", "REPLACE"];

pub fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::bad(format!("unsupported SQL: {what}"))
}

/// The parts of a dotted name.
pub fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
        })
        .collect()
}

enum Column {
    /// `*`: every table attribute from the document.
    Star,
    /// A named JSON-valued column.
    Named(String),
}

/// LIMIT and OFFSET: a whole number written in the statement, nothing else (a column there
/// has no row to be read from).
fn literal_limit(r: &mut Render, e: Option<&Expr>) -> Result<Option<String>> {
    let Some(e) = e else { return Ok(None) };
    let whole = match e {
        Expr::Value(v) => match &v.value {
            SqlValue::Number(n, _) => n.parse::<u64>().ok().filter(|n| i64::try_from(*n).is_ok()),
            _ => None,
        },
        _ => None,
    };
    match whole {
        Some(_) => r.expr(e).map(Some),
        None => Err(Error::bad(format!("LIMIT and OFFSET take a whole number, not '{e}'"))),
    }
}

/// `WHERE ...` for a predicate write, refusing aggregates (SQL has no row to apply them to).
fn write_filter(r: &mut Render<'_>, selection: Option<&Expr>, verb: &str) -> Result<String> {
    match selection {
        Some(w) if has_aggregate(w) => Err(Error::bad(format!("aggregate functions are not allowed in the WHERE clause of {verb}"))),
        Some(w) => Ok(format!(" WHERE {}", r.expr(w)?)),
        None => Ok(String::new()),
    }
}

impl Store {
    /// A SELECT on one table (already resolved and permission-checked by the caller): the
    /// rows as objects, `*` expanded to the table's attributes.
    pub async fn sql_select(&self, meta: &TableMeta, alias: Option<String>, q: &Query, s: &Select) -> Result<Vec<Value>> {
    let mut r = Render::new(meta, alias);
        for item in &s.projection {
            if let SelectItem::ExprWithAlias { expr, alias } = item {
                r.aliases.insert(alias.value.clone(), expr.clone());
            }
        }
    
        let group_exprs: &[Expr] = match &s.group_by {
            GroupByExpr::Expressions(e, mods) if mods.is_empty() => e,
            GroupByExpr::Expressions(..) | GroupByExpr::All(_) => return Err(unsupported("GROUP BY modifiers")),
        };
        let aggregate = !group_exprs.is_empty()
            || s.projection.iter().any(|i| match i {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => has_aggregate(e),
                _ => false,
            });
    
        let mut cols: Vec<Column> = Vec::new();
        let mut sql_cols: Vec<String> = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    if aggregate {
                        return Err(Error::bad("SELECT * cannot be combined with aggregates or GROUP BY"));
                    }
                    cols.push(Column::Star);
                    sql_cols.push("doc".into());
                }
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let out_name = match item {
                        SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                        _ => match r.column_name(e)? {
                            Some(c) => c,
                            None => e.to_string(),
                        },
                    };
                    let sql = match r.column_name(e)? {
                        Some(c) => r.column_json(&c)?,
                        None => format!("json_quote({})", r.expr(e)?),
                    };
                    cols.push(Column::Named(out_name));
                    sql_cols.push(sql);
                }
            }
        }
        let distinct = match &s.distinct {
            None => "",
            Some(Distinct::Distinct) => "DISTINCT ",
            Some(Distinct::On(_)) => return Err(unsupported("DISTINCT ON")),
        };
        let mut sql = format!(
            "SELECT {distinct}{} FROM {}",
            sql_cols.iter().enumerate().map(|(i, c)| format!("{c} AS c{i}")).collect::<Vec<_>>().join(", "),
            meta.physical()
        );
        if let Some(w) = &s.selection {
            if has_aggregate(w) {
                return Err(Error::bad("aggregate functions are not allowed in WHERE; use HAVING with GROUP BY"));
            }
            sql.push_str(&format!(" WHERE {}", r.expr(w)?));
        }
        if !group_exprs.is_empty() {
            let g = group_exprs.iter().map(|e| r.expr(e)).collect::<Result<Vec<_>>>()?;
            sql.push_str(&format!(" GROUP BY {}", g.join(", ")));
        }
        if let Some(h) = &s.having {
            sql.push_str(&format!(" HAVING {}", r.expr(h)?));
        }
        if let Some(ob) = &q.order_by {
            let OrderByKind::Expressions(list) = &ob.kind else {
                return Err(unsupported("ORDER BY ALL"));
            };
            let mut parts = Vec::new();
            for o in list {
                let x = r.expr(&o.expr)?;
                let dir = match o.options.asc {
                    Some(false) => " DESC",
                    _ => "",
                };
                let nulls = match o.options.nulls_first {
                    Some(true) => " NULLS FIRST",
                    Some(false) => " NULLS LAST",
                    None => "",
                };
                parts.push(format!("{x}{dir}{nulls}"));
            }
            if !parts.is_empty() {
                sql.push_str(&format!(" ORDER BY {}", parts.join(", ")));
            }
        }
        let limit = literal_limit(&mut r, q.limit.as_ref())?;
        let offset = literal_limit(&mut r, q.offset.as_ref().map(|o| &o.value))?;
        match (limit, offset) {
            (Some(l), Some(o)) => sql.push_str(&format!(" LIMIT {l} OFFSET {o}")),
            (Some(l), None) => sql.push_str(&format!(" LIMIT {l}")),
            (None, Some(o)) => sql.push_str(&format!(" LIMIT -1 OFFSET {o}")),
            (None, None) => {}
        }
    
        let rows = self.fetch(&sql, &r.params).await?;
        let star_names: Vec<&str> = meta.attributes.iter().map(|a| a.name.as_str()).collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut obj = Map::new();
            for (i, col) in cols.iter().enumerate() {
                let text: Option<String> = row.try_get(i)?;
                match col {
                    Column::Star => {
                        let doc: Map<String, Value> = match text {
                            Some(t) => serde_json::from_str(&t).map_err(|e| Error::Internal(e.to_string()))?,
                            None => Map::new(),
                        };
                        for n in &star_names {
                            obj.insert((*n).to_string(), doc.get(*n).cloned().unwrap_or(Value::Null));
                        }
                    }
                    Column::Named(n) => {
                        let v = match text {
                            Some(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
                            None => Value::Null,
                        };
                        obj.insert(n.clone(), v);
                    }
                }
            }
            out.push(Value::Object(obj));
        }
        Ok(out)
    }

    /// UPDATE ... SET ... WHERE: new values computed by SQLite from each matching row.
    pub async fn sql_update(&self, meta: &TableMeta, alias: Option<String>, assignments: &[Assignment], selection: Option<&Expr>, user: Option<&str>) -> Result<WriteOutcome> {
    let mut r = Render::new(meta, alias);
        let mut names = Vec::new();
        let mut exprs = Vec::new();
        for a in assignments {
            let AssignmentTarget::ColumnName(n) = &a.target else {
                return Err(unsupported("tuple assignment"));
            };
            let col = name_parts(n).pop().ok_or_else(|| Error::bad("empty column name"))?;
            if col == meta.primary_key {
                return Err(Error::bad(format!("the primary key '{col}' cannot be changed by UPDATE")));
            }
            if has_aggregate(&a.value) {
                return Err(Error::bad(format!("aggregate functions are not allowed in UPDATE ... SET ({col} = {})", a.value)));
            }
            names.push(col);
            // New values are computed by SQLite from the current row, returned as JSON text.
            exprs.push(match r.column_name(&a.value)? {
                Some(c) => r.column_json(&c)?,
                None => format!("json_quote({})", r.expr(&a.value)?),
            });
        }
        // SET parameters come before WHERE parameters, matching their order in the SQL text.
        let filter = write_filter(&mut r, selection, "UPDATE")?;
        let cols: String = exprs.iter().map(|c| format!(", {c}")).collect();
        let select = format!("SELECT pk, doc{cols} FROM {}{filter}", meta.physical());
        self.update_where(&meta.database, &meta.name, &select, &r.params, &names, user).await
    }

    /// DELETE ... WHERE.
    pub async fn sql_delete(&self, meta: &TableMeta, alias: Option<String>, selection: Option<&Expr>, user: Option<&str>) -> Result<DeleteOutcome> {
    let mut r = Render::new(meta, alias);
        let filter = write_filter(&mut r, selection, "DELETE")?;
        let select = format!("SELECT pk FROM {}{filter}", meta.physical());
        self.delete_where(&meta.database, &meta.name, &select, &r.params, user).await
    }
}
