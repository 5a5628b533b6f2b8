//! Aggregate queries: `GROUP BY` and the aggregate functions (`COUNT`, `COUNT_DISTINCT`,
//! `SUM`, `AVG`, `MIN`, `MAX`), evaluated over the filtered rows into `AggregateResult`
//! rows whose values are the output columns in SELECT order.
//!
//! Groups are keyed by the byte encoding `sort` uses, so text groups ignore case as SOQL
//! comparisons do (the first value seen is shown); nulls form their own group. Every
//! function skips null values; `SUM`, `AVG`, `MIN` and `MAX` of no values are null. A
//! query without `GROUP BY` yields exactly one row, even over no records.

use super::ast::Function;
use super::filter::{is_null, Source};
use super::output::Row;
use super::plan::Slot;
use super::sort::encode_value;
use crate::schema::FieldType;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// How an aggregate query turns rows into result rows.
#[derive(Debug, Clone)]
pub struct Grouping {
    /// The `GROUP BY` fields, in the rows being grouped.
    pub keys: Vec<Slot>,
    /// The output columns in SELECT order.
    pub columns: Vec<Column>,
}

/// One output column of an aggregate query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Column {
    /// The value of `GROUP BY` field `keys[i]`.
    Key(usize),
    Aggregate {
        function: Function,
        slot: Slot,
    },
}

impl Column {
    /// The type of the column's values (for ordering the result rows).
    pub fn field_type(&self, keys: &[Slot]) -> FieldType {
        match *self {
            Column::Key(i) => keys[i].field_type,
            Column::Aggregate {
                function: Function::Count | Function::CountDistinct,
                ..
            } => FieldType::Int,
            Column::Aggregate {
                function: Function::Sum | Function::Avg,
                ..
            } => FieldType::Double,
            Column::Aggregate { slot, .. } => slot.field_type,
        }
    }
}

/// Whether `function` applies to fields of `field_type` (`SUM`/`AVG` need numbers).
pub fn accepts(function: Function, field_type: FieldType) -> bool {
    match function {
        Function::Sum | Function::Avg => field_type.is_numeric(),
        Function::Min | Function::Max => field_type != FieldType::Boolean,
        Function::Count | Function::CountDistinct => true,
    }
}

/// The result rows: one per group (first-seen order), or one in all without `GROUP BY`.
pub fn evaluate(grouping: &Grouping, rows: &[Row]) -> Vec<Row> {
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for row in rows {
        let key = group_key(row, &grouping.keys);
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(Group::new(grouping, row));
            groups.len() - 1
        });
        groups[at].add(grouping, row);
    }
    if grouping.keys.is_empty() && groups.is_empty() {
        groups.push(Group {
            keys: Vec::new(),
            accumulators: accumulators(grouping),
        });
    }
    groups
        .into_iter()
        .map(|group| group.finish(grouping))
        .collect()
}

fn group_key(row: &Row, keys: &[Slot]) -> Vec<u8> {
    let mut key = Vec::new();
    for &slot in keys {
        match row.value(slot) {
            value if is_null(value) => key.push(0),
            value => {
                key.push(1);
                encode_value(&mut key, value.expect("not null"), slot.field_type);
            }
        }
    }
    key
}

fn accumulators(grouping: &Grouping) -> Vec<Accumulator> {
    let aggregates = grouping.columns.iter().filter_map(|c| match c {
        Column::Aggregate { function, .. } => Some(Accumulator::new(*function)),
        Column::Key(_) => None,
    });
    aggregates.collect()
}

/// One group: its key values and one accumulator per aggregate column.
struct Group {
    keys: Vec<Value>,
    accumulators: Vec<Accumulator>,
}

impl Group {
    fn new(grouping: &Grouping, first: &Row) -> Group {
        let keys = grouping
            .keys
            .iter()
            .map(|&slot| first.value(slot).cloned().unwrap_or(Value::Null))
            .collect();
        Group {
            keys,
            accumulators: accumulators(grouping),
        }
    }

    fn add(&mut self, grouping: &Grouping, row: &Row) {
        let slots = grouping.columns.iter().filter_map(|c| match c {
            Column::Aggregate { slot, .. } => Some(*slot),
            Column::Key(_) => None,
        });
        for (accumulator, slot) in self.accumulators.iter_mut().zip(slots) {
            let value = row.value(slot);
            if !is_null(value) {
                accumulator.add(value.expect("not null"), slot.field_type);
            }
        }
    }

    fn finish(self, grouping: &Grouping) -> Row {
        let mut results = self.accumulators.into_iter().map(Accumulator::finish);
        let values = grouping.columns.iter().map(|column| match column {
            Column::Key(i) => self.keys[*i].clone(),
            Column::Aggregate { .. } => results.next().unwrap_or(Value::Null),
        });
        Row::new(values.collect())
    }
}

/// The running state of one aggregate function over one group.
enum Accumulator {
    Count(usize),
    Distinct(HashSet<Vec<u8>>),
    Sum(Option<f64>),
    Avg {
        sum: f64,
        count: usize,
    },
    /// The extreme value so far with its order key; `max` picks the largest.
    Extreme {
        best: Option<(Vec<u8>, Value)>,
        max: bool,
    },
}

impl Accumulator {
    fn new(function: Function) -> Accumulator {
        match function {
            Function::Count => Accumulator::Count(0),
            Function::CountDistinct => Accumulator::Distinct(HashSet::new()),
            Function::Sum => Accumulator::Sum(None),
            Function::Avg => Accumulator::Avg { sum: 0.0, count: 0 },
            Function::Min => Accumulator::Extreme {
                best: None,
                max: false,
            },
            Function::Max => Accumulator::Extreme {
                best: None,
                max: true,
            },
        }
    }

    fn add(&mut self, value: &Value, field_type: FieldType) {
        let number = value.as_f64().unwrap_or_default();
        match self {
            Accumulator::Count(n) => *n += 1,
            Accumulator::Distinct(seen) => {
                seen.insert(order_key(value, field_type));
            }
            Accumulator::Sum(sum) => *sum = Some(sum.unwrap_or_default() + number),
            Accumulator::Avg { sum, count } => {
                *sum += number;
                *count += 1;
            }
            Accumulator::Extreme { best, max } => {
                let key = order_key(value, field_type);
                let better =
                    best.as_ref().is_none_or(
                        |(current, _)| if *max { key > *current } else { key < *current },
                    );
                if better {
                    *best = Some((key, value.clone()));
                }
            }
        }
    }

    fn finish(self) -> Value {
        match self {
            Accumulator::Count(n) => Value::from(n),
            Accumulator::Distinct(seen) => Value::from(seen.len()),
            Accumulator::Sum(sum) => sum.map_or(Value::Null, Value::from),
            Accumulator::Avg { count: 0, .. } => Value::Null,
            Accumulator::Avg { sum, count } => Value::from(sum / count as f64),
            Accumulator::Extreme { best, .. } => best.map_or(Value::Null, |(_, value)| value),
        }
    }
}

fn order_key(value: &Value, field_type: FieldType) -> Vec<u8> {
    let mut key = Vec::new();
    encode_value(&mut key, value, field_type);
    key
}

#[cfg(test)]
mod tests {
    use crate::soql::fixture::{self, Org};
    use crate::soql::{execute, prepare_on, Prepared, QueryResult};
    use crate::values::FieldError;
    use serde_json::{json, Value};

    fn run(org: &Org, soql: &str) -> Result<(Prepared, QueryResult), FieldError> {
        let prepared = prepare_on(org.store.schema(), soql, fixture::today())?;
        let result = execute(&org.store, &prepared, false)?;
        Ok((prepared, result))
    }

    fn records(org: &Org, soql: &str) -> Vec<Value> {
        let (prepared, result) = run(org, soql).unwrap_or_else(|e| panic!("{soql}: {}", e.message));
        assert_eq!(result.total_size, result.rows.len());
        result
            .rows
            .iter()
            .map(|r| Value::Object(r.to_json(&prepared, "59.0")))
            .collect()
    }

    fn without_attributes(mut record: Value) -> Value {
        record.as_object_mut().unwrap().remove("attributes");
        record
    }

    #[test]
    fn groups_compute_every_function_and_order_by_their_keys() {
        let org = fixture::org();
        let soql = "SELECT Industry, COUNT(Id) n, SUM(NumberOfEmployees), MAX(Name), MIN(Last_Seen__c) FROM Account GROUP BY Industry ORDER BY Industry NULLS LAST";
        let rows: Vec<_> = records(&org, soql)
            .into_iter()
            .map(without_attributes)
            .collect();
        assert_eq!(
            rows,
            [
                json!({"Industry": "Energy", "n": 1, "expr0": 100.0, "expr1": "Acme", "expr2": "2024-05-15T10:00:00.000+0000"}),
                json!({"Industry": "Retail", "n": 1, "expr0": null, "expr1": "Globex", "expr2": "2024-05-14T23:59:59.999+0000"}),
                json!({"Industry": "Technology", "n": 1, "expr0": 50.0, "expr1": "initech", "expr2": "2024-05-16T00:00:00.000+0000"}),
                json!({"Industry": null, "n": 1, "expr0": 5.0, "expr1": "O'Brien & Sons", "expr2": null}),
            ]
        );
        let first = &records(
            &org,
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry LIMIT 1",
        )[0];
        assert_eq!(first["attributes"], json!({"type": "AggregateResult"}));
    }

    #[test]
    fn without_group_by_there_is_one_row_even_over_nothing() {
        let org = fixture::org();
        let row = without_attributes(
            records(
                &org,
                "SELECT COUNT(Id), AVG(NumberOfEmployees), COUNT_DISTINCT(OwnerId) FROM Account",
            )
            .remove(0),
        );
        assert_eq!(row["expr0"], 4);
        assert!((row["expr1"].as_f64().unwrap() - 155.0 / 3.0).abs() < 1e-9);
        assert_eq!(row["expr2"], 2);
        let empty = records(
            &org,
            "SELECT COUNT(Id), SUM(Amount) FROM Opportunity WHERE Amount > 1000",
        );
        assert_eq!(
            without_attributes(empty[0].clone()),
            json!({"expr0": 0, "expr1": null})
        );
    }

    #[test]
    fn groups_by_parent_fields_ignore_case_and_order_by_aggregates() {
        let org = fixture::org();
        fixture::insert(
            &org.store,
            "Account",
            json!({"Name": "Second energy", "Industry": "ENERGY"}),
        );
        let energy = records(
            &org,
            "SELECT Industry, COUNT(Id) FROM Account WHERE Industry = 'energy' GROUP BY Industry",
        );
        assert_eq!(
            without_attributes(energy[0].clone()),
            json!({"Industry": "Energy", "expr0": 2})
        );
        let soql = "SELECT Account.Name, COUNT(Id) FROM Contact GROUP BY Account.Name ORDER BY COUNT(Id) DESC, Account.Name";
        let rows: Vec<_> = records(&org, soql)
            .into_iter()
            .map(without_attributes)
            .collect();
        assert_eq!(
            rows,
            [
                json!({"Name": null, "expr0": 1}),
                json!({"Name": "Acme", "expr0": 1}),
                json!({"Name": "Globex", "expr0": 1})
            ]
        );
    }

    #[test]
    fn aggregate_queries_are_checked() {
        let org = fixture::org();
        let error = |soql: &str| {
            run(&org, soql)
                .err()
                .unwrap_or_else(|| panic!("{soql} should fail"))
        };
        assert!(
            error("SELECT Name, COUNT(Id) FROM Account GROUP BY Industry")
                .message
                .ends_with("Field must be grouped or aggregated: Name")
        );
        assert_eq!(
            error("SELECT SUM(Name) FROM Account").code,
            "MALFORMED_QUERY"
        );
        assert!(
            error("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Name")
                .message
                .contains("must be in the select list")
        );
        assert!(error("SELECT Id FROM Account ORDER BY COUNT(Id)")
            .message
            .ends_with("Aggregate functions in ORDER BY need an aggregate query"));
        assert_eq!(
            error("SELECT COUNT(Id) n, MAX(Name) N FROM Account").message,
            "duplicate alias: N"
        );
    }
}
