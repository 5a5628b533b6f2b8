//! Result rows and how they render: REST JSON records and Bulk CSV cells.
//!
//! A [`Row`] keeps only what rendering needs — the id of every node's record (for the
//! `attributes.url` of the record and of each nested parent, null when the lookup is
//! empty) followed by the selected values — because REST query cursors hold up to
//! hundreds of thousands of rows between pages. Field names and nesting come from the
//! [`Prepared`] query at render time.

use super::eval::Working;
use super::filter::Source;
use super::plan::{OutEntry, Prepared, Shape};
use crate::values;
use serde_json::{json, Map, Value};

/// One result row. Render it with the [`Prepared`] query that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Records: node ids, then selected values. Aggregates: one value per column.
    cells: Box<[Value]>,
}

impl Row {
    pub(super) fn from_working(prepared: &Prepared, working: &Working) -> Row {
        let ids = (0..prepared.nodes.len()).map(|node| {
            working
                .node(node)
                .map_or(Value::Null, |values| values[0].clone())
        });
        let selected = prepared
            .select
            .iter()
            .map(|&slot| working.value(slot).cloned().unwrap_or(Value::Null));
        Row {
            cells: ids.chain(selected).collect(),
        }
    }

    pub(super) fn aggregate(counts: impl Iterator<Item = usize>) -> Row {
        Row {
            cells: counts.map(Value::from).collect(),
        }
    }

    /// The row as a REST record: `attributes {type, url}`, then the selected fields in
    /// SELECT order with canonical names, parents as nested records (or `null`).
    /// Aggregate rows are `AggregateResult` records with one entry per column.
    pub fn to_json(&self, prepared: &Prepared, api_version: &str) -> Map<String, Value> {
        let mut map = Map::new();
        if prepared.shape == Shape::Aggregate {
            map.insert("attributes".into(), json!({"type": "AggregateResult"}));
            for (name, value) in prepared.columns.iter().zip(self.cells.iter()) {
                map.insert(name.clone(), value.clone());
            }
            return map;
        }
        map.insert(
            "attributes".into(),
            attributes(&prepared.nodes[0].object, &self.cells[0], api_version),
        );
        self.render(prepared, &prepared.output, &mut map, api_version);
        map
    }

    fn render(
        &self,
        prepared: &Prepared,
        entries: &[OutEntry],
        map: &mut Map<String, Value>,
        api_version: &str,
    ) {
        let selected = &self.cells[prepared.nodes.len()..];
        for entry in entries {
            match entry {
                OutEntry::Field { name, column } => {
                    map.insert(name.clone(), selected[*column].clone());
                }
                OutEntry::Parent {
                    name,
                    node,
                    entries,
                } => {
                    let id = &self.cells[*node];
                    let value = if id.is_null() {
                        Value::Null
                    } else {
                        let mut parent = Map::new();
                        parent.insert(
                            "attributes".into(),
                            attributes(&prepared.nodes[*node].object, id, api_version),
                        );
                        self.render(prepared, entries, &mut parent, api_version);
                        Value::Object(parent)
                    };
                    map.insert(name.clone(), value);
                }
            }
        }
    }

    /// The row as Bulk query CSV cells in column order (`values::to_csv`: nulls empty,
    /// datetimes with `Z`).
    pub fn csv_cells(&self, prepared: &Prepared) -> Vec<String> {
        if prepared.shape == Shape::Aggregate {
            return self.cells.iter().map(|v| values::to_csv(v, None)).collect();
        }
        let selected = &self.cells[prepared.nodes.len()..];
        prepared
            .select
            .iter()
            .zip(selected.iter())
            .map(|(slot, value)| values::to_csv(value, Some(slot.field_type)))
            .collect()
    }
}

fn attributes(object: &str, id: &Value, api_version: &str) -> Value {
    let id = id.as_str().unwrap_or_default();
    json!({"type": object, "url": format!("/services/data/v{api_version}/sobjects/{object}/{id}")})
}
