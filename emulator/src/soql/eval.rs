//! Runs a [`Prepared`] query against the store.
//!
//! One pass over the queried table (in creation order, under its read lock) copies only
//! the values the query needs; when the filter reads only the record's own fields it is
//! applied during that pass, so rejected records cost no copy and `COUNT()` copies
//! nothing. Parent records are fetched after the pass, never under the table's lock
//! (a self-lookup such as `Account.Parent` would otherwise re-enter it): a few distinct
//! parents by id, many by one scan of the parent table. They are fetched for every row
//! only when the filter or the ordering needs them, otherwise just for the returned window.
//!
//! Without `ORDER BY`, rows keep creation order and the scan stops once `OFFSET + LIMIT`
//! rows are found; ordering is done by [`super::sort`]. Semi-joins run once, before the
//! scan, and become id lists; an `Id` pinned by the filter turns the scan into lookups.
//! Each parent-to-child subquery runs once for all the returned rows, grouped by parent.

use super::aggregate;
use super::filter::{Filter, Members, Source};
use super::output::Row;
use super::plan::{Node, Prepared, Shape, Slot};
use super::sort;
use crate::schema::ObjectDef;
use crate::store::{Record, Store};
use crate::values::FieldError;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

/// Up to this many distinct parents are fetched one by one; more, by scanning their table.
const PARENT_GETS: usize = 256;

/// What a query returned: for `COUNT()` only `total_size`; otherwise the rows, with
/// `total_size == rows.len()` (after `OFFSET`/`LIMIT`, as Salesforce's `totalSize`).
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub total_size: usize,
    pub rows: Vec<Row>,
}

/// A stored record seen through node 0's field list (for filtering during the scan).
struct RecordSource<'a> {
    record: &'a Record,
    fields: &'a [usize],
}

impl Source for RecordSource<'_> {
    fn value(&self, slot: Slot) -> Option<&Value> {
        (slot.node == 0).then(|| &self.record.values[self.fields[slot.column]])
    }
}

/// Runs `prepared`; `include_deleted` is `queryAll`.
pub fn execute(
    store: &Store,
    prepared: &Prepared,
    include_deleted: bool,
) -> Result<QueryResult, FieldError> {
    let object = store.schema().object(&prepared.object).ok_or_else(|| {
        let message = format!("sObject type '{}' is not supported.", prepared.object);
        FieldError::new("INVALID_TYPE", message, &[])
    })?;
    let filter = match &prepared.filter {
        Some(filter) if filter.has_semi_joins() => {
            Some(Cow::Owned(run_semi_joins(filter, store, include_deleted)?))
        }
        other => other.as_ref().map(Cow::Borrowed),
    };
    let filter = filter.as_deref();
    let local = filter.is_none_or(Filter::is_local);
    let count_only = prepared.shape == Shape::CountAll && local;
    let local_filter = filter.filter(|_| local);
    let scan = Scan {
        store,
        object,
        prepared,
        local_filter,
        local,
        include_deleted,
        count_only,
    };
    let (counted, mut rows) = scan.collect();
    if count_only {
        return Ok(QueryResult {
            total_size: window(counted, prepared).len(),
            rows: Vec::new(),
        });
    }
    let needs_parents_first = !local
        || prepared.order.iter().any(|o| o.slot.node != 0)
        || prepared.shape == Shape::Aggregate;
    if needs_parents_first {
        resolve_parents(store, &prepared.nodes, &mut rows);
    }
    if let Some(filter) = filter.filter(|_| !local) {
        rows.retain(|row| filter.matches(row));
    }
    match prepared.shape {
        Shape::CountAll => Ok(QueryResult {
            total_size: window(rows.len(), prepared).len(),
            rows: Vec::new(),
        }),
        Shape::Aggregate => {
            let grouping = prepared
                .grouping
                .as_ref()
                .expect("aggregate queries have a grouping");
            let mut rows = aggregate::evaluate(grouping, &rows);
            if !prepared.order.is_empty() {
                let keep = prepared
                    .limit
                    .map(|limit| limit.saturating_add(prepared.offset));
                rows = sort::sorted(rows, &prepared.order, keep);
            }
            let range = window(rows.len(), prepared);
            rows.truncate(range.end);
            rows.drain(..range.start);
            Ok(QueryResult {
                total_size: rows.len(),
                rows,
            })
        }
        Shape::Records => {
            let rows = page(store, prepared, rows, !needs_parents_first, include_deleted)?;
            Ok(QueryResult {
                total_size: rows.len(),
                rows,
            })
        }
    }
}

/// Orders the matching rows, cuts the `OFFSET`/`LIMIT` window, and completes the rows in
/// it: parents (unless already resolved) and subquery children.
fn page(
    store: &Store,
    prepared: &Prepared,
    mut rows: Vec<Row>,
    resolve: bool,
    include_deleted: bool,
) -> Result<Vec<Row>, FieldError> {
    if !prepared.order.is_empty() {
        let keep = prepared
            .limit
            .map(|limit| limit.saturating_add(prepared.offset));
        rows = sort::sorted(rows, &prepared.order, keep);
    }
    let range = window(rows.len(), prepared);
    rows.truncate(range.end);
    rows.drain(..range.start);
    if resolve {
        resolve_parents(store, &prepared.nodes, &mut rows);
    }
    attach_children(store, prepared, &mut rows, include_deleted)?;
    Ok(rows)
}

/// The filter with each semi-join run and replaced by the list of ids it selected.
fn run_semi_joins(
    filter: &Filter,
    store: &Store,
    include_deleted: bool,
) -> Result<Filter, FieldError> {
    let all = |items: &[Filter]| -> Result<Vec<Filter>, FieldError> {
        items
            .iter()
            .map(|f| run_semi_joins(f, store, include_deleted))
            .collect()
    };
    Ok(match filter {
        Filter::And(items) => Filter::And(all(items)?),
        Filter::Or(items) => Filter::Or(all(items)?),
        Filter::Not(inner) => Filter::Not(Box::new(run_semi_joins(inner, store, include_deleted)?)),
        Filter::InQuery {
            slot,
            negated,
            query,
        } => {
            let column = query.select[0];
            let ids = execute(store, query, include_deleted)?
                .rows
                .iter()
                .filter_map(|row| row.value(column)?.as_str().map(str::to_string))
                .collect();
            Filter::In {
                slot: *slot,
                negated: *negated,
                members: Members::Exact(ids),
                with_null: false,
            }
        }
        other => other.clone(),
    })
}

/// One pass over the queried table.
struct Scan<'a> {
    store: &'a Store,
    object: &'a ObjectDef,
    prepared: &'a Prepared,
    /// The filter, when it reads only the record's own fields (applied during the pass).
    local_filter: Option<&'a Filter>,
    /// Whether the whole filter is applied during the pass (none is left for later).
    local: bool,
    include_deleted: bool,
    count_only: bool,
}

impl Scan<'_> {
    /// Reads the records in creation order, applying the local filter on the way: the
    /// count of matches and, unless `count_only`, their rows. A filter pinned to ids
    /// (`Id = …`, `Id IN (…)`) reads just those records instead of the whole table.
    fn collect(&self) -> (usize, Vec<Row>) {
        let (prepared, filter, count_only) = (self.prepared, self.local_filter, self.count_only);
        let unordered_records =
            prepared.shape == Shape::Records && prepared.order.is_empty() && self.local;
        let stop_after = prepared
            .limit
            .filter(|_| unordered_records)
            .map(|limit| limit + prepared.offset);
        let fields = &prepared.nodes[0].fields;
        let mut rows = Vec::new();
        let mut counted = 0;
        let mut visit = |record: &Record| {
            if filter.is_some_and(|f| !f.matches(&RecordSource { record, fields })) {
                return true;
            }
            counted += 1;
            if !count_only {
                rows.push(Row::new(
                    fields.iter().map(|&i| record.values[i].clone()).collect(),
                ));
            }
            stop_after.is_none_or(|n| counted < n)
        };
        match filter.and_then(Filter::pinned_ids) {
            Some(mut ids) => {
                ids.sort_unstable();
                ids.dedup();
                let records = ids
                    .into_iter()
                    .filter_map(|id| self.store.get(self.object, id, self.include_deleted));
                for record in records {
                    if !visit(&record) {
                        break;
                    }
                }
            }
            None => self
                .store
                .scan(self.object, self.include_deleted, &mut visit),
        }
        (counted, rows)
    }
}

/// Runs each subquery once for all `rows` (their ids pin the child's lookup) and gives
/// every row its children, at most the subquery's `LIMIT` each.
fn attach_children(
    store: &Store,
    prepared: &Prepared,
    rows: &mut [Row],
    include_deleted: bool,
) -> Result<(), FieldError> {
    if rows.is_empty() {
        return Ok(());
    }
    for subquery in &prepared.subqueries {
        let mut child = subquery.prepared.clone();
        let parent_ids = rows
            .iter()
            .filter_map(|row| row.node(0)?[0].as_str())
            .map(str::to_string)
            .collect();
        let pin = Filter::In {
            slot: subquery.lookup,
            negated: false,
            members: Members::Exact(parent_ids),
            with_null: false,
        };
        child.filter = Some(match child.filter.take() {
            Some(filter) => Filter::And(vec![pin, filter]),
            None => pin,
        });
        child.limit = None;
        let mut groups: HashMap<String, Vec<Row>> = HashMap::new();
        for row in execute(store, &child, include_deleted)?.rows {
            let Some(parent) = row.value(subquery.lookup).and_then(Value::as_str) else {
                continue;
            };
            let group = groups.entry(parent.to_string()).or_default();
            if subquery
                .prepared
                .limit
                .is_none_or(|limit| group.len() < limit)
            {
                group.push(row);
            }
        }
        for row in rows.iter_mut() {
            let id = row
                .node(0)
                .and_then(|base| base[0].as_str())
                .unwrap_or_default();
            let children = groups.remove(id).unwrap_or_default();
            row.push_children(children);
        }
    }
    Ok(())
}

/// The rows `OFFSET`/`LIMIT` keep out of `len`.
fn window(len: usize, prepared: &Prepared) -> Range<usize> {
    let start = prepared.offset.min(len);
    let end = prepared
        .limit
        .map_or(len, |limit| len.min(start.saturating_add(limit)));
    start..end
}

/// Fills every row's parent nodes, parents before their children.
fn resolve_parents(store: &Store, nodes: &[Node], rows: &mut [Row]) {
    if nodes.len() < 2 {
        return;
    }
    for row in rows.iter_mut() {
        row.set_parents(vec![None; nodes.len() - 1]);
    }
    for (k, node) in nodes.iter().enumerate().skip(1) {
        let (parent, column) = node.parent.expect("parent nodes have a parent");
        let found = {
            let ids: HashSet<&str> = rows
                .iter()
                .filter_map(|row| row.node(parent).and_then(|values| values[column].as_str()))
                .collect();
            fetch(store, node, &ids)
        };
        for row in rows.iter_mut() {
            let values = row
                .node(parent)
                .and_then(|values| values[column].as_str())
                .and_then(|id| found.get(id).cloned());
            row.set_parent(k, values);
        }
    }
}

/// The node's fields of the live records with these ids.
fn fetch(store: &Store, node: &Node, ids: &HashSet<&str>) -> HashMap<String, Arc<[Value]>> {
    let Some(object) = store.schema().object(&node.object) else {
        return HashMap::new();
    };
    let copy = |record: &Record| -> Arc<[Value]> {
        node.fields
            .iter()
            .map(|&i| record.values[i].clone())
            .collect()
    };
    let mut found = HashMap::with_capacity(ids.len());
    if ids.len() <= PARENT_GETS {
        for id in ids {
            if let Some(record) = store.get(object, id, false) {
                found.insert(id.to_string(), copy(&record));
            }
        }
    } else {
        store.scan(object, false, |record| {
            if ids.contains(record.id()) {
                found.insert(record.id().to_string(), copy(record));
            }
            found.len() < ids.len()
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::fixture::{self, Org};
    use crate::soql::prepare_on;

    fn run(org: &Org, soql: &str) -> Result<(Prepared, QueryResult), FieldError> {
        let prepared = prepare_on(org.store.schema(), soql, fixture::today())?;
        let result = execute(&org.store, &prepared, false)?;
        Ok((prepared, result))
    }

    /// The first column of every row, as CSV text.
    fn first_column(org: &Org, soql: &str) -> Vec<String> {
        let (prepared, result) = run(org, soql).unwrap_or_else(|e| panic!("{soql}: {}", e.message));
        assert_eq!(result.total_size, result.rows.len());
        result
            .rows
            .iter()
            .map(|r| r.csv_cells(&prepared).remove(0))
            .collect()
    }

    fn error(org: &Org, soql: &str) -> FieldError {
        run(org, soql)
            .err()
            .unwrap_or_else(|| panic!("{soql} should fail"))
    }

    #[test]
    fn unordered_results_keep_creation_order() {
        let org = fixture::org();
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account"),
            ["Acme", "Globex", "O'Brien & Sons", "initech"]
        );
        assert_eq!(
            first_column(&org, "SELECT Id FROM Account"),
            [org.acme.as_str(), &org.globex, &org.obrien, &org.initech]
        );
    }

    #[test]
    fn comparisons_on_text_ignore_case_and_treat_empty_as_null() {
        let org = fixture::org();
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Name = 'ACME'"),
            ["Acme"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Name > 'h'"),
            ["O'Brien & Sons", "initech"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Industry = ''"),
            ["O'Brien & Sons"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Industry != 'energy'"),
            ["Globex", "O'Brien & Sons", "initech"]
        );
        assert_eq!(
            first_column(
                &org,
                r"SELECT Name FROM Account WHERE Name = 'O\'Brien & Sons'"
            ),
            ["O'Brien & Sons"]
        );
    }

    #[test]
    fn numbers_booleans_and_null_checks() {
        let org = fixture::org();
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE NumberOfEmployees >= 50"
            ),
            ["Acme", "initech"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE NumberOfEmployees < 50.5"
            ),
            ["O'Brien & Sons", "initech"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE NumberOfEmployees = null"
            ),
            ["Globex"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE AnnualRevenue > -1"),
            ["Acme"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE IsDeleted = false AND ParentId != null"
            ),
            ["Globex"]
        );
    }

    #[test]
    fn like_in_not_in_and_boolean_logic() {
        let org = fixture::org();
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Name LIKE '%O%'"),
            ["Globex", "O'Brien & Sons"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Name LIKE 'a_me'"),
            ["Acme"]
        );
        assert_eq!(
            first_column(
                &org,
                r"SELECT Name FROM Account WHERE Description LIKE '50\% off\\%'"
            ),
            ["O'Brien & Sons"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE Industry IN ('Retail', 'technology')"
            ),
            ["Globex", "initech"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE Industry IN ('Retail', null)"
            ),
            ["Globex", "O'Brien & Sons"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE Industry NOT IN ('Retail', 'Energy')"
            ),
            ["O'Brien & Sons", "initech"]
        );
        let soql = "SELECT Name FROM Account WHERE (Industry = 'Energy' OR Industry = 'Retail') AND NOT Name LIKE 'G%'";
        assert_eq!(first_column(&org, soql), ["Acme"]);
        let soql = "SELECT Name FROM Account WHERE NOT (NumberOfEmployees > 10 OR Industry = null)";
        assert_eq!(first_column(&org, soql), ["Globex"]);
        assert_eq!(
            first_column(
                &org,
                &format!(
                    "SELECT Name FROM Account WHERE Id IN ('{}', '{}')",
                    &org.globex[..15],
                    org.initech
                )
            ),
            ["Globex", "initech"]
        );
    }

    #[test]
    fn dates_datetimes_and_relative_literals() {
        let org = fixture::org();
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Opportunity WHERE CloseDate = 2024-05-15"
            ),
            ["Big deal"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Opportunity WHERE CloseDate <= 2024-04-30"
            ),
            ["April deal", "Old deal"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Opportunity WHERE CloseDate = THIS_MONTH"
            ),
            ["Big deal", "May deal"]
        );
        assert_eq!(first_column(&org, "SELECT Name FROM Opportunity WHERE CloseDate < THIS_MONTH AND CloseDate = LAST_N_DAYS:30"), ["April deal"]);
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Opportunity WHERE CloseDate = LAST_YEAR"
            ),
            ["Old deal"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Last_Seen__c = TODAY"),
            ["Acme"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Last_Seen__c > TODAY"),
            ["initech"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE Last_Seen__c < 2024-05-15T10:00:00Z"
            ),
            ["Globex"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE Last_Seen__c >= 2024-05-15T12:00:00+02:00"
            ),
            ["Acme", "initech"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account WHERE Last_Seen__c = 2024-05-15T10:00:00.000Z"
            ),
            ["Acme"]
        );
    }

    #[test]
    fn system_timestamps_match_recent_relative_dates() {
        let org = fixture::org();
        let prepared = crate::soql::prepare(
            org.store.schema(),
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1",
        )
        .unwrap();
        assert_eq!(execute(&org.store, &prepared, false).unwrap().total_size, 4);
    }

    #[test]
    fn type_mismatches_are_reported_like_salesforce() {
        let org = fixture::org();
        let e = error(&org, "SELECT Id FROM Account WHERE NumberOfEmployees = '5'");
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert_eq!(e.message, "value of filter criterion for field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes");
        let e = error(
            &org,
            "SELECT Id FROM Account WHERE Last_Seen__c > 2024-01-01",
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("INVALID_FIELD", "value of filter criterion for field 'Last_Seen__c' must be of type dateTime and should not be enclosed in quotes"));
        assert!(error(
            &org,
            "SELECT Id FROM Opportunity WHERE CloseDate = '2024-01-01'"
        )
        .message
        .contains("must be of type date and"));
        assert!(error(&org, "SELECT Id FROM Account WHERE Name = 5")
            .message
            .ends_with("must be of type string and should be enclosed in quotes"));
        assert!(
            error(&org, "SELECT Id FROM Account WHERE IsDeleted = 'true'")
                .message
                .contains("type boolean")
        );
        let e = error(&org, "SELECT Id FROM Account WHERE Id = 'abc'");
        assert_eq!(e.code, "INVALID_QUERY_FILTER_OPERATOR");
        assert!(
            e.message.ends_with("Column:35\ninvalid ID field: abc"),
            "{}",
            e.message
        );
        assert_eq!(
            error(
                &org,
                "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'"
            )
            .code,
            "INVALID_FIELD"
        );
        assert_eq!(
            error(
                &org,
                "SELECT Id FROM Opportunity WHERE CloseDate = 2024-02-30"
            )
            .code,
            "MALFORMED_QUERY"
        );
    }

    #[test]
    fn ordering_with_directions_nulls_and_several_keys() {
        let org = fixture::org();
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account ORDER BY Name"),
            ["Acme", "Globex", "initech", "O'Brien & Sons"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account ORDER BY Name DESC"),
            ["O'Brien & Sons", "initech", "Globex", "Acme"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account ORDER BY NumberOfEmployees"),
            ["Globex", "O'Brien & Sons", "initech", "Acme"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account ORDER BY NumberOfEmployees NULLS LAST"
            ),
            ["O'Brien & Sons", "initech", "Acme", "Globex"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account ORDER BY NumberOfEmployees DESC"
            ),
            ["Acme", "initech", "O'Brien & Sons", "Globex"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account ORDER BY NumberOfEmployees DESC NULLS FIRST"
            ),
            ["Globex", "Acme", "initech", "O'Brien & Sons"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account ORDER BY Owner.LastName, Name DESC"
            ),
            ["initech", "Globex", "O'Brien & Sons", "Acme"]
        );
    }

    #[test]
    fn limit_and_offset_page_the_results() {
        let org = fixture::org();
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account LIMIT 2"),
            ["Acme", "Globex"]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account LIMIT 2 OFFSET 1"),
            ["Globex", "O'Brien & Sons"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT Name FROM Account ORDER BY Name DESC LIMIT 1 OFFSET 1"
            ),
            ["initech"]
        );
        assert!(first_column(&org, "SELECT Name FROM Account OFFSET 10").is_empty());
        assert!(first_column(&org, "SELECT Name FROM Account LIMIT 0").is_empty());
    }

    #[test]
    fn parent_fields_filter_sort_and_render() {
        let org = fixture::org();
        assert_eq!(
            first_column(
                &org,
                "SELECT LastName FROM Contact WHERE Account.Name = 'acme'"
            ),
            ["Smith"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT LastName FROM Contact WHERE Account.Owner.Email LIKE 'grace%'"
            ),
            ["Jones"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT LastName FROM Contact WHERE Account.Name = null"
            ),
            ["Brown"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT LastName FROM Contact WHERE Account.Name != 'Acme'"
            ),
            ["Jones", "Brown"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT LastName FROM Contact ORDER BY Account.Name DESC NULLS LAST"
            ),
            ["Jones", "Smith", "Brown"]
        );
        assert_eq!(
            first_column(&org, "SELECT Account.Parent.Name FROM Contact"),
            ["", "Acme", ""]
        );
        assert_eq!(
            first_column(&org, "SELECT Name FROM Account WHERE Parent.Name = 'Acme'"),
            ["Globex"]
        );
        assert_eq!(
            first_column(
                &org,
                "SELECT LastName FROM Contact WHERE Account.Name = 'Globex' LIMIT 1"
            ),
            ["Jones"],
            "a LIMIT must not stop the scan before a parent filter has run"
        );
        let (prepared, result) = run(
            &org,
            "SELECT Account.Owner.Email FROM Contact WHERE Account.Id != null",
        )
        .unwrap();
        let cells: Vec<_> = result.rows.iter().map(|r| r.csv_cells(&prepared)).collect();
        assert_eq!(cells, [["ada@example.com"], ["grace@example.com"]]);
    }

    #[test]
    fn counts_respect_filters_limits_and_deleted_rows() {
        let org = fixture::org();
        let count = |soql: &str, all: bool| {
            let prepared = prepare_on(org.store.schema(), soql, fixture::today()).unwrap();
            let result = execute(&org.store, &prepared, all).unwrap();
            assert!(result.rows.is_empty());
            result.total_size
        };
        assert_eq!(count("SELECT COUNT() FROM Account", false), 4);
        assert_eq!(
            count(
                "SELECT COUNT() FROM Account WHERE NumberOfEmployees > 10",
                false
            ),
            2
        );
        assert_eq!(
            count(
                "SELECT COUNT() FROM Contact WHERE Account.Industry = 'Energy'",
                false
            ),
            1
        );
        assert_eq!(count("SELECT COUNT() FROM Account LIMIT 3", false), 3);
        let account = org.store.schema().object("Account").unwrap().clone();
        org.store.delete(&account, &org.initech, false).unwrap();
        assert_eq!(count("SELECT COUNT() FROM Account", false), 3);
        assert_eq!(count("SELECT COUNT() FROM Account", true), 4);
        assert_eq!(
            count("SELECT COUNT() FROM Account WHERE IsDeleted = true", true),
            1
        );
        let (prepared, result) = run(
            &org,
            "SELECT COUNT(Id), COUNT(Industry) industries FROM Account",
        )
        .unwrap();
        assert_eq!(result.total_size, 1);
        assert_eq!(result.rows[0].csv_cells(&prepared), ["3", "2"]);
    }

    #[test]
    fn deleted_parents_read_as_empty_lookups() {
        let org = fixture::org();
        let account = org.store.schema().object("Account").unwrap().clone();
        org.store.delete(&account, &org.globex, false).unwrap();
        assert_eq!(
            first_column(&org, "SELECT Account.Name FROM Contact"),
            ["Acme", "", ""]
        );
        let _ = (&org.smith, &org.jones, &org.brown, &org.ada);
    }

    #[test]
    fn semi_joins_and_anti_joins_select_by_the_ids_of_another_query() {
        let org = fixture::org();
        let with_contacts = "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)";
        assert_eq!(first_column(&org, with_contacts), ["Acme", "Globex"]);
        let without = "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact WHERE LastName != 'Jones') AND Name != 'initech'";
        assert_eq!(first_column(&org, without), ["Globex", "O'Brien & Sons"]);
        let parents = "SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Industry = 'Retail')";
        assert_eq!(first_column(&org, parents), ["Jones"]);
        let nested = "SELECT LastName FROM Contact WHERE AccountId IN (SELECT ParentId FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'Jones'))";
        assert_eq!(first_column(&org, nested), ["Smith"]);
        let e = error(
            &org,
            "SELECT Id FROM Account WHERE Id IN (SELECT Name FROM Contact)",
        );
        assert!(
            e.message
                .ends_with("must select exactly one Id or reference field"),
            "{}",
            e.message
        );
        let e = error(
            &org,
            "SELECT Id FROM Account WHERE Name IN (SELECT AccountId FROM Contact)",
        );
        assert_eq!(e.code, "MALFORMED_QUERY");
    }

    #[test]
    fn id_pinned_filters_read_just_those_records_in_creation_order() {
        let org = fixture::org();
        let soql = format!(
            "SELECT Name FROM Account WHERE Name != 'Acme' AND Id IN ('{}', '{}', '{}', '{}')",
            org.initech, org.acme, org.globex, org.initech
        );
        assert_eq!(first_column(&org, &soql), ["Globex", "initech"]);
        let by_short_id = format!(
            "SELECT Name FROM Account WHERE Id = '{}'",
            &org.obrien[..15]
        );
        assert_eq!(first_column(&org, &by_short_id), ["O'Brien & Sons"]);
        let other_object = format!("SELECT Name FROM Account WHERE Id = '{}'", org.smith);
        assert!(first_column(&org, &other_object).is_empty());
        let account = org.store.schema().object("Account").unwrap().clone();
        org.store.delete(&account, &org.globex, false).unwrap();
        let globex = format!("SELECT COUNT() FROM Account WHERE Id = '{}'", org.globex);
        let prepared = prepare_on(org.store.schema(), &globex, fixture::today()).unwrap();
        assert_eq!(execute(&org.store, &prepared, false).unwrap().total_size, 0);
        assert_eq!(execute(&org.store, &prepared, true).unwrap().total_size, 1);
    }

    #[test]
    fn two_hundred_thousand_rows_scan_filter_sort_and_page() {
        let org = fixture::org();
        let contact = org.store.schema().object("Contact").unwrap().clone();
        let last_name = contact.field_index("LastName").unwrap();
        let account_id = contact.field_index("AccountId").unwrap();
        let parents = [&org.acme, &org.globex, &org.obrien, &org.initech];
        for i in 0..200_000usize {
            let changes = vec![
                (
                    last_name,
                    Value::String(format!("Name{:06}", (i * 7919) % 200_000)),
                ),
                (account_id, Value::String(parents[i % 4].clone())),
            ];
            org.store.insert(&contact, changes).unwrap();
        }
        assert_eq!(first_column(&org, "SELECT LastName FROM Contact WHERE LastName LIKE 'name1%' ORDER BY LastName DESC LIMIT 2"), ["Name199999", "Name199998"]);
        let (_, result) = run(
            &org,
            "SELECT Id, LastName, Account.Name FROM Contact WHERE Account.Industry = 'Energy'",
        )
        .unwrap();
        assert_eq!(result.total_size, 50_001);
        let (_, result) =
            run(&org, "SELECT COUNT() FROM Contact WHERE LastName > 'Name1'").unwrap();
        assert_eq!(
            result.total_size, 100_001,
            "Name100000..Name199999 and Smith"
        );
    }
}
