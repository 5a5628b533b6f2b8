//! `soql(object, fields)`: the core's SOQL builder, whose bound values are always escaped.
//!
//! Each method returns a new builder (immutable, like a JS string), and `build()` renders the
//! query or throws `InvalidInputError` naming the first bad identifier or value. JS values
//! map to SOQL literals: `null`/`undefined` → `null`, booleans, integral numbers and BigInts
//! → integers, other finite numbers → decimals, strings (quoted and escaped), `Date` → a UTC
//! datetime literal. Anything else is an `InvalidInputError` naming the field.

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::*;
use napi::JsDate;
use napi_derive::napi;
use sfscale::soql::{Cond, Op, Order, Soql as CoreSoql, SoqlValue};

use crate::errors::{core_err, invalid};

/// A SOQL `SELECT` being built.
#[napi]
#[derive(Clone)]
pub struct Soql {
    inner: CoreSoql,
}

/// `SELECT fields FROM object`; with no fields, `SELECT COUNT() FROM object`.
#[napi]
pub fn soql(object: String, fields: Option<Vec<String>>) -> Soql {
    let select = match fields {
        Some(fields) => CoreSoql::select(fields),
        None => CoreSoql::count(),
    };
    Soql {
        inner: select.from(&object),
    }
}

fn op(name: &str) -> Result<Op> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "=" | "==" | "===" => Op::Eq,
        "!=" | "!==" => Op::Ne,
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

/// Integral numbers JS represents exactly.
const SAFE: f64 = 9_007_199_254_740_991.0;

/// A JS value as a SOQL literal value.
fn literal(value: &Unknown<'_>, field: &str) -> Result<SoqlValue> {
    let bad = |what: &str| invalid(format!("field '{field}': {what} cannot be a SOQL value"));
    // SAFETY: each cast matches the type `get_type` just reported.
    Ok(match value.get_type()? {
        ValueType::Null | ValueType::Undefined => SoqlValue::Null,
        ValueType::Boolean => SoqlValue::Bool(unsafe { value.cast::<bool>()? }),
        ValueType::String => SoqlValue::Str(unsafe { value.cast::<String>()? }),
        ValueType::Number => {
            let n = unsafe { value.cast::<f64>()? };
            match n {
                n if !n.is_finite() => return Err(bad(&n.to_string())),
                n if n.fract() == 0.0 && n.abs() <= SAFE => SoqlValue::Int(n as i64),
                n => SoqlValue::Float(n),
            }
        }
        ValueType::BigInt => {
            let (n, lossless) = unsafe { value.cast::<BigInt>()? }.get_i64();
            if !lossless {
                return Err(bad("a BigInt beyond 64 bits"));
            }
            SoqlValue::Int(n)
        }
        ValueType::Object if value.is_date()? => {
            let ms = unsafe { value.cast::<JsDate>()? }.value_of()?;
            let at = DateTime::<Utc>::from_timestamp_millis(ms as i64)
                .ok_or_else(|| bad("an invalid Date"))?;
            SoqlValue::DateTime(at)
        }
        other => return Err(bad(&format!("a value of type {other}"))),
    })
}

impl Soql {
    fn with(&self, cond: Cond) -> Soql {
        Soql {
            inner: self.inner.clone().and(cond),
        }
    }
}

#[napi]
impl Soql {
    /// `AND field = value`.
    #[napi(ts_args_type = "field: string, value: unknown")]
    pub fn where_eq(&self, field: String, value: Unknown<'_>) -> Result<Soql> {
        Ok(self.with(Cond::eq(&field, literal(&value, &field)?)))
    }

    /// `AND field <op> value`.
    #[napi(ts_args_type = "field: string, operator: string, value: unknown")]
    pub fn where_cmp(&self, field: String, operator: String, value: Unknown<'_>) -> Result<Soql> {
        Ok(self.with(Cond::cmp(&field, op(&operator)?, literal(&value, &field)?)))
    }

    /// `AND field IN (values)`.
    #[napi(ts_args_type = "field: string, values: unknown[]")]
    pub fn where_in(&self, field: String, values: Vec<Unknown<'_>>) -> Result<Soql> {
        let values = values
            .iter()
            .map(|v| literal(v, &field))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.with(Cond::is_in(&field, values)))
    }

    /// `AND field NOT IN (values)`.
    #[napi(ts_args_type = "field: string, values: unknown[]")]
    pub fn where_not_in(&self, field: String, values: Vec<Unknown<'_>>) -> Result<Soql> {
        let values = values
            .iter()
            .map(|v| literal(v, &field))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.with(Cond::not_in(&field, values)))
    }

    /// `AND field = null`.
    #[napi]
    pub fn where_null(&self, field: String) -> Soql {
        self.with(Cond::is_null(&field))
    }

    /// `AND (a OR b ...)` from `[field, op, value]` triples.
    #[napi(ts_args_type = "conditions: Array<[string, string, unknown]>")]
    pub fn where_any(&self, conditions: Vec<Array<'_>>) -> Result<Soql> {
        let conds = conditions
            .iter()
            .map(|triple| {
                let field: String = triple
                    .get(0)?
                    .ok_or_else(|| invalid("a condition needs [field, op, value]"))?;
                let operator: String = triple
                    .get(1)?
                    .ok_or_else(|| invalid("a condition needs [field, op, value]"))?;
                let value: Unknown<'_> = triple
                    .get(2)?
                    .ok_or_else(|| invalid("a condition needs [field, op, value]"))?;
                Ok(Cond::cmp(&field, op(&operator)?, literal(&value, &field)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self.with(Cond::any(conds)))
    }

    /// `ORDER BY field ASC|DESC` (repeatable).
    #[napi]
    pub fn order_by(&self, field: String, descending: Option<bool>) -> Soql {
        let dir = if descending.unwrap_or(false) {
            Order::Desc
        } else {
            Order::Asc
        };
        Soql {
            inner: self.inner.clone().order_by(&field, dir),
        }
    }

    /// `LIMIT n`.
    #[napi]
    pub fn limit(&self, n: u32) -> Soql {
        Soql {
            inner: self.inner.clone().limit(n.into()),
        }
    }

    /// `OFFSET n`.
    #[napi]
    pub fn offset(&self, n: u32) -> Soql {
        Soql {
            inner: self.inner.clone().offset(n.into()),
        }
    }

    /// The query text.
    #[napi]
    pub fn build(&self) -> Result<String> {
        self.inner.build().map_err(core_err)
    }

    #[napi]
    pub fn to_string(&self) -> Result<String> {
        self.build()
    }
}
