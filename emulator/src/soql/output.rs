//! Result rows and how they render: REST JSON records and Bulk CSV cells.
//!
//! A [`Row`] is the evaluated row itself: only the fields the query names, copied once
//! from the queried record, plus shared references to its parents' few fields — cheap to
//! keep, since REST query cursors hold up to hundreds of thousands of rows between pages.
//! Field names and nesting come from the [`Prepared`] query at render time.

use super::filter::Source;
use super::plan::{OutEntry, Prepared, Shape, Slot};
use crate::values;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// One result row: the values the query reads from the queried record (node 0, its `Id`
/// first) and from each parent node (`None` when the lookup is empty). Parents are shared
/// between the rows that have the same parent. Render a row with the [`Prepared`] query
/// that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Node 0's values; for aggregate rows, one value per column.
    base: Box<[Value]>,
    /// `parents[k - 1]` holds node `k`; empty until parents are resolved.
    parents: Vec<Option<Arc<[Value]>>>,
    /// `children[i]` holds the rows of subquery `i`; empty when the query has none.
    children: Vec<Vec<Row>>,
}

impl Row {
    pub(super) fn new(base: Box<[Value]>) -> Row {
        Row {
            base,
            parents: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The copied fields of `node`, `None` when that parent record is absent.
    pub(super) fn node(&self, node: usize) -> Option<&[Value]> {
        if node == 0 {
            Some(&self.base)
        } else {
            self.parents.get(node - 1)?.as_deref()
        }
    }

    /// Sets the parent nodes (`parents[k - 1]` for node `k`).
    pub(super) fn set_parents(&mut self, parents: Vec<Option<Arc<[Value]>>>) {
        self.parents = parents;
    }

    pub(super) fn set_parent(&mut self, node: usize, values: Option<Arc<[Value]>>) {
        self.parents[node - 1] = values;
    }

    /// Appends the rows of the next subquery.
    pub(super) fn push_children(&mut self, rows: Vec<Row>) {
        self.children.push(rows);
    }

    fn selected(&self, slot: Slot) -> &Value {
        self.value(slot).unwrap_or(&Value::Null)
    }

    /// The row as a REST record: `attributes {type, url}`, then the selected fields in
    /// SELECT order with canonical names, parents as nested records (or `null`).
    /// Aggregate rows are `AggregateResult` records with one entry per column.
    pub fn to_json(&self, prepared: &Prepared, api_version: &str) -> Map<String, Value> {
        let mut map = Map::new();
        if prepared.shape == Shape::Aggregate {
            map.insert("attributes".into(), json!({"type": "AggregateResult"}));
            for (name, value) in prepared.columns.iter().zip(self.base.iter()) {
                map.insert(name.clone(), value.clone());
            }
            return map;
        }
        map.insert(
            "attributes".into(),
            attributes(&prepared.nodes[0].object, &self.base[0], api_version),
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
        for entry in entries {
            match entry {
                OutEntry::Field { name, column } => {
                    map.insert(
                        name.clone(),
                        self.selected(prepared.select[*column]).clone(),
                    );
                }
                OutEntry::Parent {
                    name,
                    node,
                    entries,
                } => {
                    let value = match self.node(*node) {
                        Some(values) => {
                            let object = &prepared.nodes[*node].object;
                            let mut parent = Map::new();
                            parent.insert(
                                "attributes".into(),
                                attributes(object, &values[0], api_version),
                            );
                            self.render(prepared, entries, &mut parent, api_version);
                            Value::Object(parent)
                        }
                        None => Value::Null,
                    };
                    map.insert(name.clone(), value);
                }
                OutEntry::Children { name, index } => {
                    let value = self.children_json(
                        &prepared.subqueries[*index].prepared,
                        *index,
                        api_version,
                    );
                    map.insert(name.clone(), value);
                }
            }
        }
    }

    /// Subquery rows as REST nests them: `{totalSize, done, records}`, or `null` if none.
    fn children_json(&self, child: &Prepared, index: usize, api_version: &str) -> Value {
        match self.children.get(index).filter(|rows| !rows.is_empty()) {
            None => Value::Null,
            Some(rows) => {
                let records: Vec<Value> = rows
                    .iter()
                    .map(|r| Value::Object(r.to_json(child, api_version)))
                    .collect();
                json!({"totalSize": records.len(), "done": true, "records": records})
            }
        }
    }

    /// The row as Bulk query CSV cells in column order (`values::to_csv`: nulls empty,
    /// datetimes with `Z`).
    pub fn csv_cells(&self, prepared: &Prepared) -> Vec<String> {
        if prepared.shape == Shape::Aggregate {
            return self.base.iter().map(|v| values::to_csv(v, None)).collect();
        }
        let cell = |slot: &Slot| values::to_csv(self.selected(*slot), Some(slot.field_type));
        prepared.select.iter().map(cell).collect()
    }
}

impl Source for Row {
    fn value(&self, slot: Slot) -> Option<&Value> {
        self.node(slot.node).map(|values| &values[slot.column])
    }
}

fn attributes(object: &str, id: &Value, api_version: &str) -> Value {
    let id = id.as_str().unwrap_or_default();
    json!({"type": object, "url": format!("/services/data/v{api_version}/sobjects/{object}/{id}")})
}

#[cfg(test)]
mod tests {
    use crate::soql::fixture;
    use crate::soql::{execute, prepare_on, Prepared, QueryResult};
    use serde_json::json;

    fn run(org: &fixture::Org, soql: &str) -> (Prepared, QueryResult) {
        let prepared = prepare_on(org.store.schema(), soql, fixture::today()).unwrap();
        let result = execute(&org.store, &prepared, false).unwrap();
        (prepared, result)
    }

    #[test]
    fn records_render_with_attributes_canonical_names_and_nested_parents() {
        let org = fixture::org();
        let (prepared, result) = run(
            &org,
            "select lastname, account.owner.email, ID, account.name from contact order by lastname",
        );
        let records: Vec<_> = result
            .rows
            .iter()
            .map(|r| serde_json::Value::Object(r.to_json(&prepared, "59.0")))
            .collect();
        let brown = &records[0];
        assert_eq!(brown["attributes"]["type"], "Contact");
        assert_eq!(
            brown["attributes"]["url"],
            format!("/services/data/v59.0/sobjects/Contact/{}", org.brown)
        );
        assert_eq!(brown["Account"], serde_json::Value::Null);
        let smith = &records[2];
        let account = &smith["Account"];
        assert_eq!(
            account["attributes"],
            json!({"type": "Account", "url": format!("/services/data/v59.0/sobjects/Account/{}", org.acme)})
        );
        assert_eq!(account["Name"], "Acme");
        assert_eq!(account["Owner"]["attributes"]["type"], "User");
        assert_eq!(account["Owner"]["Email"], "ada@example.com");
        let keys: Vec<_> = smith.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["attributes", "LastName", "Account", "Id"]);
        let account_keys: Vec<_> = account.as_object().unwrap().keys().cloned().collect();
        assert_eq!(account_keys, ["attributes", "Owner", "Name"]);
        assert_eq!(smith["Id"], org.smith.as_str());
    }

    #[test]
    fn empty_grandparents_render_as_null_inside_their_parent() {
        let org = fixture::org();
        let (prepared, result) = run(
            &org,
            "SELECT Name, Parent.Name, Parent.Parent.Name FROM Account WHERE Name = 'Globex'",
        );
        let record = serde_json::Value::Object(result.rows[0].to_json(&prepared, "60.0"));
        assert_eq!(record["Parent"]["Name"], "Acme");
        assert_eq!(record["Parent"]["Parent"], serde_json::Value::Null);
    }

    #[test]
    fn csv_cells_follow_the_columns_with_bulk_formats() {
        let org = fixture::org();
        let (prepared, result) = run(&org, "SELECT Name, Last_Seen__c, NumberOfEmployees, AnnualRevenue, Owner.Email, IsDeleted FROM Account LIMIT 2");
        assert_eq!(
            prepared.columns(),
            [
                "Name",
                "Last_Seen__c",
                "NumberOfEmployees",
                "AnnualRevenue",
                "Owner.Email",
                "IsDeleted"
            ]
        );
        assert_eq!(
            result.rows[0].csv_cells(&prepared),
            [
                "Acme",
                "2024-05-15T10:00:00.000Z",
                "100",
                "5000000.5",
                "ada@example.com",
                "false"
            ]
        );
        assert_eq!(result.rows[1].csv_cells(&prepared)[2], "");
    }

    #[test]
    fn aggregate_rows_are_aggregate_results() {
        let org = fixture::org();
        let (prepared, result) = run(
            &org,
            "SELECT COUNT(Id) n, COUNT(NumberOfEmployees) FROM Account",
        );
        let record = serde_json::Value::Object(result.rows[0].to_json(&prepared, "59.0"));
        assert_eq!(
            record,
            json!({"attributes": {"type": "AggregateResult"}, "n": 4, "expr0": 3})
        );
    }

    #[test]
    fn subqueries_nest_child_records_per_parent_with_their_own_filter_order_and_limit() {
        let org = fixture::org();
        let soql = "SELECT Name, (SELECT LastName, Account.Name FROM Contacts), (SELECT Name FROM Opportunities WHERE Amount > 20 ORDER BY Amount DESC LIMIT 2) FROM Account ORDER BY Name LIMIT 3";
        let (prepared, result) = run(&org, soql);
        let records: Vec<_> = result
            .rows
            .iter()
            .map(|r| serde_json::Value::Object(r.to_json(&prepared, "59.0")))
            .collect();
        let acme = &records[0];
        let keys: Vec<_> = acme.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["attributes", "Name", "Contacts", "Opportunities"]);
        assert_eq!(acme["Contacts"]["totalSize"], 1);
        assert_eq!(acme["Contacts"]["done"], true);
        let smith = &acme["Contacts"]["records"][0];
        assert_eq!(
            smith["attributes"]["url"],
            format!("/services/data/v59.0/sobjects/Contact/{}", org.smith)
        );
        assert_eq!(smith["LastName"], "Smith");
        assert_eq!(smith["Account"]["Name"], "Acme");
        let deals: Vec<_> = acme["Opportunities"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Name"].clone())
            .collect();
        assert_eq!(deals, ["Big deal", "May deal"]);
        assert_eq!(records[1]["Contacts"]["records"][0]["LastName"], "Jones");
        assert_eq!(records[1]["Opportunities"], serde_json::Value::Null);
        assert_eq!(records[2]["Name"], "initech");
        assert_eq!(records[2]["Contacts"], serde_json::Value::Null);
        assert_eq!(
            result.rows[0].csv_cells(&prepared),
            ["Acme"],
            "subqueries have no CSV columns"
        );
    }

    #[test]
    fn self_relationships_and_bad_child_relationships() {
        let org = fixture::org();
        let (prepared, result) = run(
            &org,
            "SELECT Name, (SELECT Name FROM childaccounts) FROM Account WHERE Name = 'Acme'",
        );
        let record = serde_json::Value::Object(result.rows[0].to_json(&prepared, "59.0"));
        assert_eq!(record["ChildAccounts"]["records"][0]["Name"], "Globex");
        let schema = org.store.schema();
        let e = prepare_on(
            schema,
            "SELECT Id, (SELECT Id FROM Contactz) FROM Account",
            fixture::today(),
        )
        .unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
        assert!(
            e.message.contains(
                "Column:28\nDidn't understand relationship 'Contactz' in FROM part of query call."
            ),
            "{}",
            e.message
        );
        let e = prepare_on(
            schema,
            "SELECT Id, (SELECT Nope FROM Contacts) FROM Account",
            fixture::today(),
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("No such column 'Nope' on entity 'Contact'"),
            "{}",
            e.message
        );
        let e = prepare_on(
            schema,
            "SELECT Id, (SELECT COUNT() FROM Contacts) FROM Account",
            fixture::today(),
        )
        .unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
    }
}
