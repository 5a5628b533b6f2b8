//! A SOQL query builder whose bound values can never change a query's structure.
//!
//! Building SOQL by string formatting is how user input becomes query structure
//! (`Name = '` + input + `'` with input `x' OR Name != '`). This builder takes the
//! structure (fields, object, operators, ordering) from the programmer and the values as
//! typed [`SoqlValue`]s, which are rendered as literals: strings are quoted with every
//! SOQL escape applied (`\\`, `\'`, `\"`, `\n`, `\r`, `\t`, `\b`, `\f`), dates and
//! datetimes in SOQL's literal formats, numbers and booleans bare, `None` as `null`.
//! Identifiers (field paths, object names) are validated instead of escaped: SOQL has no
//! quoting for identifiers, so anything that is not a plain identifier is rejected.
//!
//! Mistakes are collected while chaining and reported once by [`Soql::build`], so a chain
//! stays readable. AND/OR are never mixed implicitly: the builder ANDs its conditions and
//! [`Cond::any`] / [`Cond::all`] make explicit parenthesised groups, which is also what
//! SOQL itself requires.
//!
//! ```
//! use sfscale::{Cond, Soql};
//! let soql = Soql::select(["Id", "Name"])
//!     .from("Account")
//!     .where_eq("Name", "O'Brien")
//!     .and_in("Industry", ["Energy", "Media"])
//!     .and(Cond::any([Cond::gt("AnnualRevenue", 1000), Cond::is_null("AnnualRevenue")]))
//!     .order_by("Name", sfscale::Order::Asc)
//!     .limit(10)
//!     .build()
//!     .unwrap();
//! assert_eq!(
//!     soql,
//!     "SELECT Id, Name FROM Account WHERE Name = 'O\\'Brien' AND Industry IN ('Energy', 'Media') \
//!      AND (AnnualRevenue > 1000 OR AnnualRevenue = null) ORDER BY Name ASC LIMIT 10"
//! );
//! ```

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::Error;

/// A value bound into a query; rendered as a SOQL literal, never as query text.
#[derive(Debug, Clone, PartialEq)]
pub enum SoqlValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A decimal literal; NaN and infinities are rejected at build time.
    Float(f64),
    /// A quoted, escaped string literal.
    Str(String),
    /// A date literal `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A datetime literal `YYYY-MM-DDThh:mm:ssZ` (UTC).
    DateTime(DateTime<Utc>),
}

impl SoqlValue {
    fn render(&self, out: &mut String) -> Result<(), Error> {
        match self {
            SoqlValue::Null => out.push_str("null"),
            SoqlValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            SoqlValue::Int(i) => write!(out, "{i}").expect("write to String"),
            SoqlValue::Float(f) if f.is_finite() => write!(out, "{f}").expect("write to String"),
            SoqlValue::Float(f) => {
                return Err(Error::invalid_input(format!(
                    "SOQL value {f} is not a finite number"
                )))
            }
            SoqlValue::Str(s) => quote_into(s, out),
            SoqlValue::Date(d) => write!(out, "{}", d.format("%Y-%m-%d")).expect("write to String"),
            SoqlValue::DateTime(t) => {
                write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")).expect("write to String")
            }
        }
        Ok(())
    }
}

/// Quotes `s` as a SOQL string literal, escaping every character that could end it.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(s, &mut out);
    out
}

fn quote_into(s: &str, out: &mut String) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            other => out.push(other),
        }
    }
    out.push('\'');
}

macro_rules! value_from {
    ($($t:ty => $variant:ident via $conv:expr),* $(,)?) => {
        $(impl From<$t> for SoqlValue {
            fn from(v: $t) -> Self { SoqlValue::$variant($conv(v)) }
        })*
    };
}

value_from! {
    bool => Bool via |v| v,
    i32 => Int via i64::from,
    i64 => Int via |v| v,
    u32 => Int via i64::from,
    f64 => Float via |v| v,
    &str => Str via str::to_owned,
    String => Str via |v| v,
    &String => Str via String::clone,
    NaiveDate => Date via |v| v,
    DateTime<Utc> => DateTime via |v| v,
}

impl<T: Into<SoqlValue>> From<Option<T>> for SoqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SoqlValue::Null, Into::into)
    }
}

/// Checks that `name` is a SOQL identifier path such as `Name`, `Account.Owner.Name` or
/// `ns__Field__c`: dot-separated segments of ASCII letters, digits and underscores, each
/// starting with a letter.
pub fn validate_identifier(name: &str) -> Result<(), Error> {
    let valid_segment = |seg: &str| {
        seg.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !name.is_empty() && name.len() <= 255 && name.split('.').all(valid_segment) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "'{}' is not a valid SOQL identifier",
            name.escape_debug()
        )))
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE` (the value's `%` and `_` are wildcards).
    Like,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
        }
    }
}

/// A WHERE condition: a comparison, a set membership, or a parenthesised group.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `field op value`.
    Cmp(String, Op, SoqlValue),
    /// `field IN (...)` or, negated, `field NOT IN (...)`.
    In(String, Vec<SoqlValue>, bool),
    /// Every condition holds: `(a AND b)`.
    All(Vec<Cond>),
    /// Any condition holds: `(a OR b)`.
    Any(Vec<Cond>),
    /// `NOT (c)`.
    Not(Box<Cond>),
}

impl Cond {
    /// `field op value`.
    pub fn cmp(field: &str, op: Op, value: impl Into<SoqlValue>) -> Cond {
        Cond::Cmp(field.to_owned(), op, value.into())
    }
    /// `field = value`.
    pub fn eq(field: &str, value: impl Into<SoqlValue>) -> Cond {
        Cond::cmp(field, Op::Eq, value)
    }
    /// `field != value`.
    pub fn ne(field: &str, value: impl Into<SoqlValue>) -> Cond {
        Cond::cmp(field, Op::Ne, value)
    }
    /// `field > value`.
    pub fn gt(field: &str, value: impl Into<SoqlValue>) -> Cond {
        Cond::cmp(field, Op::Gt, value)
    }
    /// `field < value`.
    pub fn lt(field: &str, value: impl Into<SoqlValue>) -> Cond {
        Cond::cmp(field, Op::Lt, value)
    }
    /// `field LIKE pattern`.
    pub fn like(field: &str, pattern: impl Into<SoqlValue>) -> Cond {
        Cond::cmp(field, Op::Like, pattern)
    }
    /// `field = null`.
    pub fn is_null(field: &str) -> Cond {
        Cond::cmp(field, Op::Eq, SoqlValue::Null)
    }
    /// `field IN (values...)`.
    pub fn is_in<V: Into<SoqlValue>>(field: &str, values: impl IntoIterator<Item = V>) -> Cond {
        Cond::In(
            field.to_owned(),
            values.into_iter().map(Into::into).collect(),
            false,
        )
    }
    /// `field NOT IN (values...)`.
    pub fn not_in<V: Into<SoqlValue>>(field: &str, values: impl IntoIterator<Item = V>) -> Cond {
        Cond::In(
            field.to_owned(),
            values.into_iter().map(Into::into).collect(),
            true,
        )
    }
    /// `(a AND b AND ...)`.
    pub fn all(conds: impl IntoIterator<Item = Cond>) -> Cond {
        Cond::All(conds.into_iter().collect())
    }
    /// `(a OR b OR ...)`.
    pub fn any(conds: impl IntoIterator<Item = Cond>) -> Cond {
        Cond::Any(conds.into_iter().collect())
    }
    /// `NOT (c)`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(c: Cond) -> Cond {
        Cond::Not(Box::new(c))
    }

    fn render(&self, out: &mut String) -> Result<(), Error> {
        match self {
            Cond::Cmp(field, op, value) => {
                validate_identifier(field)?;
                write!(out, "{field} {} ", op.as_str()).expect("write to String");
                value.render(out)
            }
            Cond::In(field, values, negated) => render_in(field, values, *negated, out),
            Cond::All(conds) => render_group(conds, " AND ", out),
            Cond::Any(conds) => render_group(conds, " OR ", out),
            Cond::Not(inner) => {
                out.push_str("NOT (");
                inner.render(out)?;
                out.push(')');
                Ok(())
            }
        }
    }
}

fn render_in(
    field: &str,
    values: &[SoqlValue],
    negated: bool,
    out: &mut String,
) -> Result<(), Error> {
    validate_identifier(field)?;
    if values.is_empty() {
        return Err(Error::invalid_input(format!(
            "IN list for {field} is empty"
        )));
    }
    out.push_str(field);
    out.push_str(if negated { " NOT IN (" } else { " IN (" });
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        v.render(out)?;
    }
    out.push(')');
    Ok(())
}

fn render_group(conds: &[Cond], joiner: &str, out: &mut String) -> Result<(), Error> {
    if conds.is_empty() {
        return Err(Error::invalid_input("an empty condition group"));
    }
    out.push('(');
    render_joined(conds, joiner, out)?;
    out.push(')');
    Ok(())
}

fn render_joined(conds: &[Cond], joiner: &str, out: &mut String) -> Result<(), Error> {
    for (i, c) in conds.iter().enumerate() {
        if i > 0 {
            out.push_str(joiner);
        }
        c.render(out)?;
    }
    Ok(())
}

/// Sort direction for [`Soql::order_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A SOQL `SELECT` under construction. See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Soql {
    fields: Vec<String>,
    count: bool,
    object: Option<String>,
    conds: Vec<Cond>,
    order: Vec<(String, Order)>,
    limit: Option<u64>,
    offset: Option<u64>,
}

impl Soql {
    /// `SELECT fields...`.
    pub fn select<S: AsRef<str>>(fields: impl IntoIterator<Item = S>) -> Soql {
        Soql {
            fields: fields.into_iter().map(|f| f.as_ref().to_owned()).collect(),
            count: false,
            object: None,
            conds: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// `SELECT COUNT()`.
    pub fn count() -> Soql {
        Soql {
            count: true,
            ..Soql::select(Vec::<String>::new())
        }
    }

    /// `FROM object`.
    pub fn from(mut self, object: &str) -> Soql {
        self.object = Some(object.to_owned());
        self
    }

    /// Adds a condition; all conditions are ANDed.
    pub fn and(mut self, cond: Cond) -> Soql {
        self.conds.push(cond);
        self
    }

    /// Adds `field = value` (the first condition reads better as `where_eq`).
    pub fn where_eq(self, field: &str, value: impl Into<SoqlValue>) -> Soql {
        self.and(Cond::eq(field, value))
    }

    /// Adds `AND field = value`.
    pub fn and_eq(self, field: &str, value: impl Into<SoqlValue>) -> Soql {
        self.and(Cond::eq(field, value))
    }

    /// Adds `AND field op value`.
    pub fn and_cmp(self, field: &str, op: Op, value: impl Into<SoqlValue>) -> Soql {
        self.and(Cond::cmp(field, op, value))
    }

    /// Adds `AND field IN (values...)`.
    pub fn and_in<V: Into<SoqlValue>>(
        self,
        field: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Soql {
        self.and(Cond::is_in(field, values))
    }

    /// `ORDER BY field dir` (repeatable).
    pub fn order_by(mut self, field: &str, dir: Order) -> Soql {
        self.order.push((field.to_owned(), dir));
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: u64) -> Soql {
        self.limit = Some(n);
        self
    }

    /// `OFFSET n` (Salesforce allows at most 2,000).
    pub fn offset(mut self, n: u64) -> Soql {
        self.offset = Some(n);
        self
    }

    /// Renders the query, or reports the first invalid identifier or value.
    pub fn build(&self) -> Result<String, Error> {
        let mut out = String::from("SELECT ");
        self.render_select(&mut out)?;
        let object = self
            .object
            .as_deref()
            .ok_or_else(|| Error::invalid_input("SOQL query has no FROM object"))?;
        validate_identifier(object)?;
        out.push_str(" FROM ");
        out.push_str(object);
        if !self.conds.is_empty() {
            out.push_str(" WHERE ");
            render_joined(&self.conds, " AND ", &mut out)?;
        }
        self.render_tail(&mut out)?;
        Ok(out)
    }

    fn render_select(&self, out: &mut String) -> Result<(), Error> {
        if self.count {
            out.push_str("COUNT()");
            return Ok(());
        }
        if self.fields.is_empty() {
            return Err(Error::invalid_input("SOQL query selects no fields"));
        }
        for (i, f) in self.fields.iter().enumerate() {
            validate_identifier(f)?;
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(f);
        }
        Ok(())
    }

    fn render_tail(&self, out: &mut String) -> Result<(), Error> {
        for (i, (field, dir)) in self.order.iter().enumerate() {
            validate_identifier(field)?;
            out.push_str(if i == 0 { " ORDER BY " } else { ", " });
            out.push_str(field);
            out.push_str(if *dir == Order::Asc { " ASC" } else { " DESC" });
        }
        if let Some(n) = self.limit {
            write!(out, " LIMIT {n}").expect("write to String");
        }
        if let Some(n) = self.offset {
            if n > 2000 {
                return Err(Error::invalid_input(format!(
                    "OFFSET {n} exceeds Salesforce's 2000"
                )));
            }
            write!(out, " OFFSET {n}").expect("write to String");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_eq(input: &str) -> String {
        Soql::select(["Id"])
            .from("Account")
            .where_eq("Name", input)
            .build()
            .unwrap()
    }

    #[test]
    fn quote_breakout_is_escaped() {
        assert_eq!(
            name_eq("x' OR Name != 'y"),
            r"SELECT Id FROM Account WHERE Name = 'x\' OR Name != \'y'"
        );
    }

    #[test]
    fn backslash_cannot_unescape_the_closing_quote() {
        // A trailing backslash would otherwise escape our closing quote.
        assert_eq!(
            name_eq(r"abc\"),
            r"SELECT Id FROM Account WHERE Name = 'abc\\'"
        );
        assert_eq!(
            name_eq(r"\' OR Id != null --"),
            r"SELECT Id FROM Account WHERE Name = '\\\' OR Id != null --'"
        );
    }

    #[test]
    fn control_characters_and_double_quotes_are_escaped() {
        assert_eq!(
            quote("a\nb\rc\td\u{8}e\u{c}f\"g"),
            r#"'a\nb\rc\td\be\ff\"g'"#
        );
    }

    #[test]
    fn every_rendered_literal_has_exactly_two_unescaped_quotes() {
        for input in [
            "'",
            "''",
            r"\'",
            r"\\'",
            "'\n'",
            "a' LIMIT 1 --",
            "\u{2019}'",
        ] {
            let q = quote(input);
            let mut unescaped = 0;
            let mut chars = q.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => unescaped += 1,
                    _ => {}
                }
            }
            assert_eq!(unescaped, 2, "input {input:?} rendered {q}");
        }
    }

    #[test]
    fn typed_values_render_as_literals() {
        let date = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let at = DateTime::parse_from_rfc3339("2024-05-01T10:15:00+02:00")
            .unwrap()
            .to_utc();
        let soql = Soql::select(["Id"])
            .from("Opportunity")
            .where_eq("CloseDate", date)
            .and_cmp("LastModifiedDate", Op::Ge, at)
            .and_eq("IsWon", true)
            .and_cmp("Amount", Op::Gt, 12.5)
            .and_eq("Probability", 3)
            .and_eq("Description", None::<String>)
            .build()
            .unwrap();
        assert_eq!(
            soql,
            "SELECT Id FROM Opportunity WHERE CloseDate = 2024-05-01 AND \
             LastModifiedDate >= 2024-05-01T08:15:00Z AND IsWon = true AND Amount > 12.5 AND \
             Probability = 3 AND Description = null"
        );
    }

    #[test]
    fn non_finite_numbers_are_rejected() {
        let err = Soql::select(["Id"])
            .from("Account")
            .and_cmp("Amount", Op::Gt, f64::NAN)
            .build();
        assert!(err.is_err());
    }

    #[test]
    fn identifiers_are_validated_everywhere() {
        for bad in [
            "Name FROM User --",
            "",
            "1Name",
            "Na me",
            "Name)",
            "a..b",
            "Name'",
        ] {
            assert!(validate_identifier(bad).is_err(), "{bad:?} accepted");
            assert!(Soql::select([bad]).from("Account").build().is_err());
            assert!(Soql::select(["Id"]).from(bad).build().is_err());
            assert!(Soql::select(["Id"])
                .from("Account")
                .where_eq(bad, 1)
                .build()
                .is_err());
            assert!(Soql::select(["Id"])
                .from("Account")
                .order_by(bad, Order::Asc)
                .build()
                .is_err());
        }
        for good in ["Id", "Account.Owner.Name", "ns__Field__c", "External_Id__c"] {
            validate_identifier(good).unwrap();
        }
    }

    #[test]
    fn groups_are_parenthesised_and_in_lists_escaped() {
        let soql = Soql::select(["Id"])
            .from("Contact")
            .and(Cond::any([
                Cond::eq("LastName", "a'b"),
                Cond::not(Cond::like("Email", "%@x.com")),
            ]))
            .and(Cond::not_in("Id", ["003'", "x"]))
            .order_by("LastName", Order::Desc)
            .order_by("Id", Order::Asc)
            .limit(5)
            .offset(10)
            .build()
            .unwrap();
        assert_eq!(
            soql,
            r"SELECT Id FROM Contact WHERE (LastName = 'a\'b' OR NOT (Email LIKE '%@x.com')) AND Id NOT IN ('003\'', 'x') ORDER BY LastName DESC, Id ASC LIMIT 5 OFFSET 10"
        );
    }

    #[test]
    fn structural_mistakes_fail_at_build() {
        assert!(Soql::select(["Id"]).build().is_err());
        assert!(Soql::select(Vec::<&str>::new())
            .from("Account")
            .build()
            .is_err());
        assert!(Soql::select(["Id"])
            .from("Account")
            .and_in("Id", Vec::<String>::new())
            .build()
            .is_err());
        assert!(Soql::select(["Id"])
            .from("Account")
            .and(Cond::any([]))
            .build()
            .is_err());
        assert!(Soql::select(["Id"])
            .from("Account")
            .offset(2001)
            .build()
            .is_err());
        assert_eq!(
            Soql::count().from("Account").build().unwrap(),
            "SELECT COUNT() FROM Account"
        );
    }
}
