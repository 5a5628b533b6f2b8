//! `NativeSoql`: the core's SOQL builder, whose bound values are always escaped.
//!
//! Each method returns a new builder (the Kotlin `Soql` is immutable), and `build()` renders
//! the query or fails with `INVALID_INPUT` naming the first bad identifier or value. Bound
//! values cross as a typed [`SoqlLiteral`], not JSON: a date, a datetime and a string that
//! looks like one must render differently (`2024-05-01` vs `'2024-05-01'`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sfscale::soql::{Cond, Op, Order, Soql, SoqlValue};

use crate::client::natural;
use crate::errors::{invalid, FfiError};

/// A value bound into a query.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum SoqlLiteral {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool { value: bool },
    /// An integer.
    Int { value: i64 },
    /// A decimal number.
    Float { value: f64 },
    /// A string (quoted and escaped).
    Text { value: String },
    /// A date, `YYYY-MM-DD`.
    Date { iso: String },
    /// An instant, RFC 3339 (rendered in UTC).
    DateTime { iso: String },
}

fn value(literal: SoqlLiteral) -> Result<SoqlValue, FfiError> {
    Ok(match literal {
        SoqlLiteral::Null => SoqlValue::Null,
        SoqlLiteral::Bool { value } => SoqlValue::Bool(value),
        SoqlLiteral::Int { value } => SoqlValue::Int(value),
        SoqlLiteral::Float { value } => SoqlValue::Float(value),
        SoqlLiteral::Text { value } => SoqlValue::Str(value),
        SoqlLiteral::Date { iso } => SoqlValue::Date(
            NaiveDate::parse_from_str(&iso, "%Y-%m-%d")
                .map_err(|e| invalid(format!("SOQL date '{iso}': {e}")))?,
        ),
        SoqlLiteral::DateTime { iso } => SoqlValue::DateTime(
            DateTime::parse_from_rfc3339(&iso)
                .map_err(|e| invalid(format!("SOQL datetime '{iso}': {e}")))?
                .with_timezone(&Utc),
        ),
    })
}

fn values(literals: Vec<SoqlLiteral>) -> Result<Vec<SoqlValue>, FfiError> {
    literals.into_iter().map(value).collect()
}

fn op(name: &str) -> Result<Op, FfiError> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "=" | "==" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "LIKE" => Op::Like,
        _ => {
            return Err(invalid(format!(
                "unknown operator '{name}' (=, !=, <, <=, >, >=, LIKE)"
            )))
        }
    })
}

/// A SOQL `SELECT` being built.
#[derive(uniffi::Object)]
pub struct NativeSoql {
    inner: Soql,
}

impl NativeSoql {
    fn with(&self, change: impl FnOnce(Soql) -> Soql) -> Arc<Self> {
        Arc::new(NativeSoql {
            inner: change(self.inner.clone()),
        })
    }
}

#[uniffi::export]
impl NativeSoql {
    /// `SELECT fields FROM object`; with no fields, `SELECT COUNT() FROM object`.
    #[uniffi::constructor]
    pub fn select(object: String, fields: Vec<String>) -> Arc<Self> {
        let select = if fields.is_empty() {
            Soql::count()
        } else {
            Soql::select(fields)
        };
        Arc::new(NativeSoql {
            inner: select.from(&object),
        })
    }

    /// `AND field <op> value`.
    pub fn where_cmp(
        &self,
        field: String,
        operator: String,
        literal: SoqlLiteral,
    ) -> Result<Arc<Self>, FfiError> {
        let cond = Cond::cmp(&field, op(&operator)?, value(literal)?);
        Ok(self.with(|s| s.and(cond)))
    }

    /// `AND field IN (values)`, or `NOT IN` with `negate`.
    pub fn where_in(
        &self,
        field: String,
        literals: Vec<SoqlLiteral>,
        negate: bool,
    ) -> Result<Arc<Self>, FfiError> {
        let vals = values(literals)?;
        let cond = if negate {
            Cond::not_in(&field, vals)
        } else {
            Cond::is_in(&field, vals)
        };
        Ok(self.with(|s| s.and(cond)))
    }

    /// `AND field = null`.
    pub fn where_null(&self, field: String) -> Arc<Self> {
        self.with(|s| s.and(Cond::is_null(&field)))
    }

    /// `ORDER BY field ASC|DESC` (repeatable).
    pub fn order_by(&self, field: String, descending: bool) -> Arc<Self> {
        let dir = if descending { Order::Desc } else { Order::Asc };
        self.with(|s| s.order_by(&field, dir))
    }

    /// `LIMIT n`.
    pub fn limit(&self, n: i64) -> Result<Arc<Self>, FfiError> {
        let n = natural("limit", n)?;
        Ok(self.with(|s| s.limit(n)))
    }

    /// `OFFSET n`.
    pub fn offset(&self, n: i64) -> Result<Arc<Self>, FfiError> {
        let n = natural("offset", n)?;
        Ok(self.with(|s| s.offset(n)))
    }

    /// The query text.
    pub fn build(&self) -> Result<String, FfiError> {
        Ok(self.inner.build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_literals_render_as_soql_literals() {
        let q = NativeSoql::select("Opportunity".into(), vec!["Id".into()])
            .where_cmp(
                "CloseDate".into(),
                "=".into(),
                SoqlLiteral::Date {
                    iso: "2024-06-30".into(),
                },
            )
            .unwrap()
            .where_cmp(
                "CreatedDate".into(),
                ">".into(),
                SoqlLiteral::DateTime {
                    iso: "2024-05-01T14:30:00+02:00".into(),
                },
            )
            .unwrap()
            .where_cmp(
                "Name".into(),
                "=".into(),
                SoqlLiteral::Text {
                    value: "2024-06-30".into(),
                },
            )
            .unwrap();
        let text = q.build().unwrap();
        assert!(text.contains("CloseDate = 2024-06-30"), "{text}");
        assert!(
            text.contains("CreatedDate > 2024-05-01T12:30:00Z"),
            "{text}"
        );
        assert!(text.contains("Name = '2024-06-30'"), "{text}");
    }

    #[test]
    fn bad_operators_dates_and_limits_are_refused() {
        let q = NativeSoql::select("Account".into(), vec![]);
        assert!(q
            .where_cmp("Name".into(), "~".into(), SoqlLiteral::Null)
            .is_err());
        assert!(q
            .where_cmp(
                "CloseDate".into(),
                "=".into(),
                SoqlLiteral::Date {
                    iso: "30/06/2024".into()
                }
            )
            .is_err());
        assert!(q.limit(-1).is_err());
        assert!(q
            .build()
            .unwrap()
            .starts_with("SELECT COUNT() FROM Account"));
    }
}
