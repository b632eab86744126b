//! Expressions of a statement rendered into SQLite text over one record table: identifiers as
//! the key column or JSON paths into the document, literals as bound parameters in order.

use std::collections::HashMap;

use sqlparser::ast::{BinaryOperator, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value as SqlValue};

use super::super::value::{attr_sql, same_kind, Param};
use super::super::TableMeta;
use super::{unsupported, AGGREGATES, SCALARS};
use crate::error::{Error, Result};

/// Renders expressions into SQLite text, collecting bound parameters in order.
pub(super) struct Render<'a> {
    meta: &'a TableMeta,
    alias: Option<String>,
    pub(super) params: Vec<Param>,
    /// SELECT aliases, so ORDER BY/HAVING may name them; rendered from the aliased expression.
    pub(super) aliases: HashMap<String, Expr>,
    depth: usize,
}

impl<'a> Render<'a> {
    pub(super) fn new(meta: &'a TableMeta, alias: Option<String>) -> Self {
        Render { meta, alias, params: Vec::new(), aliases: HashMap::new(), depth: 0 }
    }

    /// The column an identifier path names, if it is one: `c`, `t.c`, `db.t.c`, `alias.c`.
    pub(super) fn column_name(&self, e: &Expr) -> Result<Option<String>> {
        match e {
            Expr::Identifier(i) => Ok(Some(i.value.clone())),
            Expr::CompoundIdentifier(parts) => {
                let names: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
                let (col, qual) = names.split_last().ok_or_else(|| unsupported("empty identifier"))?;
                let ok = match qual {
                    [t] => *t == self.meta.name || self.alias.as_deref() == Some(*t),
                    [db, t] => *db == self.meta.database && *t == self.meta.name,
                    _ => false,
                };
                if ok {
                    Ok(Some((*col).to_string()))
                } else {
                    Err(Error::bad(format!("unknown column {}", names.join("."))))
                }
            }
            _ => Ok(None),
        }
    }

    /// A column's SQL value (for comparing, sorting, aggregating).
    pub(super) fn column_value(&self, name: &str) -> Result<String> {
        if name == self.meta.primary_key {
            Ok("pk".into())
        } else {
            attr_sql(name, "->>")
        }
    }

    /// A column as JSON text (for answers: keeps objects, arrays and booleans as they are).
    pub(super) fn column_json(&self, name: &str) -> Result<String> {
        // The key from the document, not `json_quote(pk)`: SQLite prints a double key with 15
        // significant digits, the document holds it exactly.
        attr_sql(name, "->")
    }

    pub(super) fn literal(&mut self, v: &SqlValue) -> Result<String> {
        let p = match v {
            SqlValue::Number(s, _) => match s.parse::<i64>() {
                Ok(i) => Param::Int(i),
                Err(_) => Param::Real(s.parse::<f64>().map_err(|_| Error::bad(format!("bad number {s}")))?),
            },
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => Param::Text(s.clone()),
            SqlValue::Boolean(b) => Param::Int(*b as i64),
            SqlValue::Null => return Ok("NULL".into()),
            other => return Err(unsupported(format!("literal {other}"))),
        };
        self.params.push(p);
        Ok("?".into())
    }

    pub(super) fn expr(&mut self, e: &Expr) -> Result<String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(Error::bad("SQL expression is nested too deeply"));
        }
        let out = self.expr_inner(e);
        self.depth -= 1;
        out
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<String> {
        if let Some(name) = self.column_name(e)? {
            if let (Expr::Identifier(_), Some(aliased)) = (e, self.aliases.get(&name).cloned()) {
                if !self.meta.has_attribute(&name) {
                    return self.expr(&aliased);
                }
            }
            return self.column_value(&name);
        }
        Ok(match e {
            Expr::Value(v) => self.literal(&v.value)?,
            Expr::Nested(inner) => format!("({})", self.expr(inner)?),
            Expr::UnaryOp { op, expr } => {
                let inner = self.expr(expr)?;
                match op {
                    UnaryOperator::Not => format!("(NOT {inner})"),
                    UnaryOperator::Minus => format!("(-{inner})"),
                    UnaryOperator::Plus => inner,
                    other => return Err(unsupported(other)),
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let sym = match op {
                    BinaryOperator::Plus => "+",
                    BinaryOperator::Minus => "-",
                    BinaryOperator::Multiply => "*",
                    BinaryOperator::Divide => "/",
                    BinaryOperator::Modulo => "%",
                    BinaryOperator::Gt => ">",
                    BinaryOperator::Lt => "<",
                    BinaryOperator::GtEq => ">=",
                    BinaryOperator::LtEq => "<=",
                    BinaryOperator::Eq => "=",
                    BinaryOperator::NotEq => "!=",
                    BinaryOperator::And => "AND",
                    BinaryOperator::Or => "OR",
                    BinaryOperator::StringConcat => "||",
                    other => return Err(unsupported(format!("operator {other}"))),
                };
                let l = self.expr(left)?;
                let r = self.expr(right)?;
                match self.range_guard(op, left, right, &l, &r) {
                    Some(g) => format!("({l} {sym} {r} AND {g})"),
                    None => format!("({l} {sym} {r})"),
                }
            }
            Expr::IsNull(x) => format!("({} IS NULL)", self.expr(x)?),
            Expr::IsNotNull(x) => format!("({} IS NOT NULL)", self.expr(x)?),
            Expr::IsTrue(x) => format!("({} IS TRUE)", self.expr(x)?),
            Expr::IsFalse(x) => format!("({} IS FALSE)", self.expr(x)?),
            Expr::InList { expr, list, negated } => {
                let x = self.expr(expr)?;
                let items = list.iter().map(|i| self.expr(i)).collect::<Result<Vec<_>>>()?;
                format!("({x} {}IN ({}))", if *negated { "NOT " } else { "" }, items.join(", "))
            }
            Expr::Between { expr, negated, low, high } => {
                let x = self.expr(expr)?;
                let lo = self.expr(low)?;
                let hi = self.expr(high)?;
                format!("({x} {}BETWEEN {lo} AND {hi})", if *negated { "NOT " } else { "" })
            }
            Expr::Like { negated, expr, pattern, escape_char, any: false }
            | Expr::ILike { negated, expr, pattern, escape_char, any: false } => {
                let x = self.expr(expr)?;
                let p = self.expr(pattern)?;
                let esc = match escape_char {
                    Some(c) => {
                        self.params.push(Param::Text(c.to_string()));
                        " ESCAPE ?".to_string()
                    }
                    None => String::new(),
                };
                format!("({x} {}LIKE {p}{esc})", if *negated { "NOT " } else { "" })
            }
            Expr::Function(f) => self.function(f)?,
            other => return Err(unsupported(other)),
        })
    }

    /// For `<`, `<=`, `>`, `>=` between a column and a literal: match only values of the
    /// literal's kind (see `same_kind`).
    fn range_guard(&self, op: &BinaryOperator, left: &Expr, right: &Expr, l: &str, r: &str) -> Option<String> {
        if !matches!(op, BinaryOperator::Gt | BinaryOperator::Lt | BinaryOperator::GtEq | BinaryOperator::LtEq) {
            return None;
        }
        let literal = |e: &Expr| match e {
            Expr::Value(v) => match &v.value {
                SqlValue::Number(..) => Some(Param::Int(0)),
                SqlValue::SingleQuotedString(_) | SqlValue::DoubleQuotedString(_) => Some(Param::Text(String::new())),
                _ => None,
            },
            Expr::UnaryOp { op: UnaryOperator::Minus, expr } if matches!(expr.as_ref(), Expr::Value(_)) => Some(Param::Int(0)),
            _ => None,
        };
        match (literal(left), literal(right)) {
            (None, Some(p)) => same_kind(l, &p),
            (Some(p), None) => same_kind(r, &p),
            _ => None,
        }
    }

    fn function(&mut self, f: &Function) -> Result<String> {
        let name = f.name.to_string().to_ascii_uppercase();
        if !AGGREGATES.contains(&name.as_str()) && !SCALARS.contains(&name.as_str()) {
            return Err(unsupported(format!("function {name}")));
        }
        if f.filter.is_some() || f.over.is_some() || !matches!(f.parameters, FunctionArguments::None) {
            return Err(unsupported(format!("{name} with FILTER, OVER or parameters")));
        }
        let FunctionArguments::List(list) = &f.args else {
            return Err(unsupported(format!("{name} without an argument list")));
        };
        let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
        let mut args = Vec::new();
        for a in &list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(self.expr(e)?),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "COUNT" => args.push("*".into()),
                other => return Err(unsupported(format!("argument {other} of {name}"))),
            }
        }
        let sql_name = if name == "SUBSTRING" { "SUBSTR" } else { name.as_str() };
        Ok(format!("{sql_name}({}{})", if distinct { "DISTINCT " } else { "" }, args.join(", ")))
    }
}

pub(super) fn has_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => {
            AGGREGATES.contains(&f.name.to_string().to_ascii_uppercase().as_str())
                || matches!(&f.args, FunctionArguments::List(l) if l.args.iter().any(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) if has_aggregate(x))))
        }
        Expr::BinaryOp { left, right, .. } => has_aggregate(left) || has_aggregate(right),
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsFalse(expr) => has_aggregate(expr),
        Expr::InList { expr, list, .. } => has_aggregate(expr) || list.iter().any(has_aggregate),
        Expr::Between { expr, low, high, .. } => has_aggregate(expr) || has_aggregate(low) || has_aggregate(high),
        Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => has_aggregate(expr) || has_aggregate(pattern),
        _ => false,
    }
}

