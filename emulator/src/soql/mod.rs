//! SOQL for the emulator: the subset integrations use, with Salesforce's results and errors.
//!
//! REST `query`/`queryAll` and Bulk 2.0 query jobs both run SOQL through this module, so
//! they agree on what a query means and on how it fails. Supported:
//!
//! - field lists with parent fields to any depth (`Account.Owner.Email`),
//!   `FIELDS(ALL|STANDARD|CUSTOM)`, `COUNT()`;
//! - aggregate queries: `COUNT`, `COUNT_DISTINCT`, `SUM`, `AVG`, `MIN`, `MAX` with optional
//!   aliases, `GROUP BY` plain fields, `ORDER BY` grouped fields or aggregates;
//! - parent-to-child subqueries (`(SELECT … FROM Contacts)`, one level, REST only);
//! - `WHERE` with `= != <> < <= > >=`, `LIKE`, `IN`/`NOT IN` (lists or semi-/anti-join
//!   subqueries such as `Id IN (SELECT AccountId FROM Contact)`), `AND`/`OR`/`NOT` and
//!   parentheses, `NULL`, booleans, numbers, escaped strings, date and datetime literals
//!   and relative dates (`TODAY`, `LAST_N_DAYS:n` …);
//! - `ORDER BY` with `ASC`/`DESC` and `NULLS FIRST|LAST`, `LIMIT`, `OFFSET` (≤ 2000);
//! - `WITH SECURITY_ENFORCED` and `FOR VIEW` (accepted, no effect).
//!
//! `HAVING`, `GROUP BY ROLLUP|CUBE`, `TYPEOF`, `USING SCOPE` and other functions
//! (`FORMAT`, `toLabel`, date functions …) are rejected with a `MALFORMED_QUERY` that says
//! the emulator lacks them.
//!
//! Errors are [`FieldError`]s with Salesforce's codes (`MALFORMED_QUERY`, `INVALID_FIELD`,
//! `INVALID_TYPE`, `NUMBER_OUTSIDE_VALID_RANGE`, `INVALID_QUERY_FILTER_OPERATOR`) and
//! messages, positional ones prefixed by the query fragment, a caret and
//! `ERROR at Row:r:Column:c`. Callers send them as HTTP 400.
//!
//! # API
//!
//! ```no_run
//! # use sfscale_emulator::{soql, store::Store};
//! # fn demo(store: &Store) -> Result<(), sfscale_emulator::values::FieldError> {
//! let prepared = soql::prepare(store.schema(), "SELECT Id, Account.Name FROM Contact")?;
//! let result = soql::execute(store, &prepared, false)?; // `true` for queryAll
//! for row in &result.rows {
//!     let record = row.to_json(&prepared, "59.0"); // REST record with attributes
//!     let cells = row.csv_cells(&prepared); // Bulk CSV, headers: prepared.columns()
//! }
//! soql::check_bulk_supported(&prepared)?; // before creating a Bulk query job
//! # Ok(()) }
//! ```
//!
//! - [`prepare`] parses and resolves names once; a [`Prepared`] can run many times.
//!   [`Prepared::object_name`], [`Prepared::columns`] (Bulk CSV headers, dot notation,
//!   canonical case) and [`Prepared::is_count`] describe it.
//! - [`execute`] returns a [`QueryResult`]: for `COUNT()` `total_size` is the count and
//!   `rows` is empty; otherwise `total_size == rows.len()`. Unordered results keep
//!   creation order.
//! - [`Row`]s hold only the selected values, so cursors can keep many of them.

mod aggregate;
mod ast;
mod dates;
mod errors;
mod eval;
mod filter;
mod lexer;
mod output;
mod parser;
mod plan;
mod sort;

pub use eval::{execute, QueryResult};
pub use output::Row;
pub use plan::Prepared;

use crate::schema::Schema;
use crate::values::FieldError;
use chrono::NaiveDate;

/// Parses `soql` and resolves its names against `schema`; relative dates use today (UTC).
pub fn prepare(schema: &Schema, soql: &str) -> Result<Prepared, FieldError> {
    prepare_on(schema, soql, chrono::Utc::now().date_naive())
}

/// [`prepare`] with relative date literals (`TODAY`, `LAST_N_DAYS:n`) anchored on `today`.
pub fn prepare_on(schema: &Schema, soql: &str, today: NaiveDate) -> Result<Prepared, FieldError> {
    let query = parser::parse(soql)?;
    plan::resolve(schema, soql, &query, today)
}

/// Rejects what Bulk API 2.0 query jobs do not run: aggregates (`COUNT()`), parent-to-child
/// subqueries and `OFFSET`.
pub fn check_bulk_supported(prepared: &Prepared) -> Result<(), FieldError> {
    if prepared.is_count() || prepared.is_aggregate() {
        return Err(FieldError::new(
            "API_ERROR",
            "Aggregate queries are not supported in Bulk Query",
            &[],
        ));
    }
    if prepared.has_subqueries() {
        return Err(FieldError::new(
            "API_ERROR",
            "Aggregate Relationships not supported in Bulk Query",
            &[],
        ));
    }
    if prepared.has_offset() {
        return Err(FieldError::new(
            "API_ERROR",
            "OFFSET is not supported in Bulk Query",
            &[],
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::default_custom_fields;

    #[test]
    fn bulk_rejects_aggregates_and_offset_only() {
        let schema = Schema::build(&[], &default_custom_fields()).unwrap();
        for soql in [
            "SELECT COUNT() FROM Account",
            "SELECT COUNT(Id) FROM Account",
            "SELECT Id FROM Account OFFSET 1",
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        ] {
            let e = check_bulk_supported(&prepare(&schema, soql).unwrap()).unwrap_err();
            assert_eq!(e.code, "API_ERROR", "{soql}");
            assert!(
                e.message.ends_with("not supported in Bulk Query"),
                "{}",
                e.message
            );
        }
        check_bulk_supported(
            &prepare(
                &schema,
                "SELECT Id, Account.Name FROM Contact ORDER BY Name LIMIT 5",
            )
            .unwrap(),
        )
        .unwrap();
    }

    /// Random token soups (seeded, so failures repeat) must give an answer or an error,
    /// never a panic, whether they fail to parse, to resolve or only at execution.
    #[test]
    fn arbitrary_token_sequences_never_panic() {
        const FRAGMENTS: &[&str] = &[
            "SELECT",
            "Id",
            "Name",
            "Account.Name",
            "Owner.Email",
            "COUNT()",
            "COUNT(Id)",
            "SUM(NumberOfEmployees)",
            "FROM",
            "Account",
            "Contact",
            "WHERE",
            "AND",
            "OR",
            "NOT",
            "(",
            ")",
            ",",
            "=",
            "!=",
            "<",
            ">=",
            "LIKE",
            "IN",
            "'a%'",
            "'O\\'B'",
            "null",
            "TRUE",
            "5",
            "-1.5",
            "2024-01-31",
            "2024-01-31T10:00:00Z",
            "TODAY",
            "LAST_N_DAYS:3",
            "ORDER BY",
            "DESC",
            "NULLS LAST",
            "LIMIT",
            "OFFSET",
            "GROUP BY",
            "Industry",
            "(SELECT LastName FROM Contacts)",
            "Id IN (SELECT AccountId FROM Contact)",
            "FIELDS(STANDARD)",
            "'",
            "\\",
            "é",
            ".",
            ":",
            "\n",
        ];
        let org = fixture::org();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut answered = 0;
        for _ in 0..20_000 {
            let fields = [
                "Id",
                "Name, Owner.Email",
                "COUNT()",
                "Name, (SELECT LastName FROM Contacts)",
            ];
            let mut soql = match next(2) {
                0 => String::new(),
                _ => format!(
                    "SELECT {} FROM Account WHERE Name != null ",
                    fields[next(fields.len())]
                ),
            };
            for _ in 0..next(8) {
                soql.push_str(FRAGMENTS[next(FRAGMENTS.len())]);
                soql.push(' ');
            }
            if let Ok(prepared) = prepare_on(org.store.schema(), &soql, fixture::today()) {
                if let Ok(result) = execute(&org.store, &prepared, next(2) == 0) {
                    answered += 1;
                    for row in &result.rows {
                        row.to_json(&prepared, "59.0");
                        row.csv_cells(&prepared);
                    }
                }
            }
        }
        assert!(answered > 0, "some generated queries are valid");
    }
}
