//! Name resolution: turns a parsed [`Query`] into a [`Prepared`] query whose every field
//! reference is a position in a record, checked against the schema.
//!
//! Parent fields (`Account.Owner.Email`) are resolved into a small tree of *nodes*: node 0
//! is the queried object, every distinct relationship path adds one node holding the
//! parent object and the lookup column that reaches it. Each node lists the few field
//! positions the query needs from its records (the `Id` first, for `attributes.url`), so
//! evaluation copies only those values instead of whole records. A field reference is a
//! [`Slot`]: (node, column in that node's list). Parent-to-child subqueries and semi-joins
//! are resolved into [`Prepared`] queries of their own, run by the evaluator.
//!
//! All name errors are found here, before any data is read, in the order Salesforce
//! reports them: the object, then the select list, the filter and the ordering.

use super::aggregate::{self, Column, Grouping};
use super::ast::{AggregateCall, FieldGroup, Function, Path, Query, SelectItem};
use super::errors;
use super::filter::{self, Filter};
use crate::schema::{child_relationship_name, FieldType, ObjectDef, Schema};
use crate::values::FieldError;
use chrono::NaiveDate;

/// Salesforce's largest accepted `OFFSET`.
pub const MAX_OFFSET: u64 = 2_000;

/// Salesforce follows at most five child-to-parent relationships in one field path.
const MAX_RELATIONSHIP_HOPS: usize = 5;

/// The largest `LIMIT` allowed with `FIELDS(ALL)` and `FIELDS(CUSTOM)`.
const MAX_UNBOUNDED_FIELDS_LIMIT: u64 = 200;

/// A position in an evaluated row: column `column` of node `node`'s field list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub node: usize,
    pub column: usize,
    pub field_type: FieldType,
}

/// One object reached by the query: the queried object (node 0) or a parent.
#[derive(Debug, Clone)]
pub struct Node {
    pub object: String,
    /// `(parent node, column of the lookup id in the parent)`; `None` for node 0.
    pub parent: Option<(usize, usize)>,
    /// The canonical relationship name that reaches this node (`Account`, `Owner`).
    pub relationship: String,
    /// Field positions copied from this node's records; `fields[0]` is always `Id`.
    pub fields: Vec<usize>,
}

/// What the query returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Records with the selected fields.
    Records,
    /// `SELECT COUNT()`: only a total size.
    CountAll,
    /// Aggregate functions, with or without `GROUP BY`: `AggregateResult` rows.
    Aggregate,
}

/// One key of `ORDER BY`.
#[derive(Debug, Clone, Copy)]
pub struct OrderSlot {
    pub slot: Slot,
    pub descending: bool,
    pub nulls_first: bool,
}

/// How a record renders as REST JSON: fields and nested parent objects in SELECT order.
#[derive(Debug, Clone)]
pub enum OutEntry {
    /// A field whose value is select column `column`.
    Field { name: String, column: usize },
    /// A parent relationship, `null` when node `node` has no record.
    Parent {
        name: String,
        node: usize,
        entries: Vec<OutEntry>,
    },
    /// The child records of subquery `index`, `null` when there are none.
    Children { name: String, index: usize },
}

/// A parent-to-child subquery (`(SELECT LastName FROM Contacts)` on Account): a query on
/// the child object, run for the parents of a page and grouped by its lookup to them.
#[derive(Debug, Clone)]
pub struct Subquery {
    /// The child relationship name (`Contacts`).
    pub name: String,
    /// The child query; its `LIMIT` applies per parent.
    pub prepared: Prepared,
    /// The child's lookup to the parent, in the child query's rows.
    pub lookup: Slot,
}

/// A select-list entry in SELECT order, for the JSON output.
#[derive(Debug, Clone, Copy)]
enum OutItem {
    Column(usize),
    Children(usize),
}

/// The resolved select list.
struct SelectList {
    shape: Shape,
    slots: Vec<Slot>,
    columns: Vec<String>,
    items: Vec<OutItem>,
    subqueries: Vec<Subquery>,
    grouping: Option<Grouping>,
}

/// A query checked against the schema, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(super) object: String,
    pub(super) shape: Shape,
    pub(super) columns: Vec<String>,
    pub(super) nodes: Vec<Node>,
    pub(super) select: Vec<Slot>,
    pub(super) filter: Option<Filter>,
    pub(super) order: Vec<OrderSlot>,
    pub(super) limit: Option<usize>,
    pub(super) offset: usize,
    pub(super) has_offset: bool,
    pub(super) output: Vec<OutEntry>,
    pub(super) subqueries: Vec<Subquery>,
    /// For aggregate queries: how rows become result rows.
    pub(super) grouping: Option<Grouping>,
}

impl Prepared {
    /// The canonical name of the queried object (`FROM`).
    pub fn object_name(&self) -> &str {
        &self.object
    }

    /// Output column names in SELECT order, dot notation with canonical case
    /// (`Account.Name`); for aggregate queries the `AggregateResult` keys (grouped field
    /// names, aliases, `expr0`, …); empty for `COUNT()`.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Whether this is `SELECT COUNT() …` (a total size and no records).
    pub fn is_count(&self) -> bool {
        self.shape == Shape::CountAll
    }

    /// Whether the select list is made of aggregate functions (`COUNT(Id)`).
    pub fn is_aggregate(&self) -> bool {
        self.shape == Shape::Aggregate
    }

    /// Whether the query has an `OFFSET` clause.
    pub fn has_offset(&self) -> bool {
        self.has_offset
    }

    /// Whether the select list has parent-to-child subqueries.
    pub fn has_subqueries(&self) -> bool {
        !self.subqueries.is_empty()
    }

    /// A slot for field `field` of the queried object, added to node 0 if new.
    fn base_slot(&mut self, field: usize, field_type: FieldType) -> Slot {
        let fields = &mut self.nodes[0].fields;
        let column = fields.iter().position(|&f| f == field).unwrap_or_else(|| {
            fields.push(field);
            fields.len() - 1
        });
        Slot {
            node: 0,
            column,
            field_type,
        }
    }
}

/// Resolves `query` (parsed from `soql`) against `schema`; `today` anchors date literals.
pub fn resolve(
    schema: &Schema,
    soql: &str,
    query: &Query,
    today: NaiveDate,
) -> Result<Prepared, FieldError> {
    let object = schema
        .object(&query.object)
        .ok_or_else(|| unknown_object(soql, query))?;
    let mut resolver = Resolver {
        schema,
        soql,
        today,
        nodes: vec![Node {
            object: object.name.clone(),
            parent: None,
            relationship: String::new(),
            fields: vec![0],
        }],
    };
    let list = resolver.select_list(query)?;
    let filter = match &query.condition {
        Some(condition) => Some(filter::compile(&mut resolver, condition, today)?),
        None => None,
    };
    let order = resolver.order(query, list.grouping.as_ref())?;
    let offset = query.offset.map_or(0, |o| o.value);
    if offset > MAX_OFFSET {
        return Err(FieldError::new(
            "NUMBER_OUTSIDE_VALID_RANGE",
            format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
            &[],
        ));
    }
    let output = match list.shape {
        Shape::Records => output_tree(&resolver.nodes, &list),
        _ => Vec::new(),
    };
    Ok(Prepared {
        object: object.name.clone(),
        shape: list.shape,
        columns: list.columns,
        nodes: resolver.nodes,
        select: list.slots,
        subqueries: list.subqueries,
        grouping: list.grouping,
        filter,
        order,
        limit: query.limit.map(|l| l.value as usize),
        offset: offset as usize,
        has_offset: query.offset.is_some(),
        output,
    })
}

fn unknown_object(soql: &str, query: &Query) -> FieldError {
    let message = format!(
        "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
        query.object
    );
    errors::at(soql, query.object_at, errors::INVALID_TYPE, &message)
}

/// Builds the node tree while resolving paths.
pub struct Resolver<'a> {
    schema: &'a Schema,
    pub(super) soql: &'a str,
    today: NaiveDate,
    nodes: Vec<Node>,
}

impl<'a> Resolver<'a> {
    fn select_list(&mut self, query: &Query) -> Result<SelectList, FieldError> {
        let mut list = SelectList {
            shape: Shape::Records,
            slots: Vec::new(),
            columns: Vec::new(),
            items: Vec::new(),
            subqueries: Vec::new(),
            grouping: None,
        };
        if let [SelectItem::CountAll { .. }] = query.select.as_slice() {
            list.shape = Shape::CountAll;
            return Ok(list);
        }
        let aggregate = !query.group_by.is_empty()
            || query
                .select
                .iter()
                .any(|i| matches!(i, SelectItem::Aggregate { .. }));
        if aggregate {
            return self.aggregate_list(query);
        }
        for item in &query.select {
            let resolved = match item {
                SelectItem::Subquery(sub) => {
                    list.items.push(OutItem::Children(list.subqueries.len()));
                    list.subqueries.push(self.subquery(sub)?);
                    continue;
                }
                SelectItem::Field(path) => vec![self.resolve_path(path)?],
                SelectItem::Fields { group, at } => self.field_group(query, *group, *at)?,
                SelectItem::Aggregate { call, .. } => {
                    let message = "Aggregate functions need an aggregate query";
                    return Err(errors::at(
                        self.soql,
                        call.at,
                        errors::MALFORMED_QUERY,
                        message,
                    ));
                }
                SelectItem::CountAll { at } => {
                    let message = "COUNT() must be the only element in the SELECT list";
                    return Err(errors::at(self.soql, *at, errors::MALFORMED_QUERY, message));
                }
            };
            for (slot, column) in resolved {
                if list.columns.iter().any(|c| c.eq_ignore_ascii_case(&column)) {
                    let message = format!("duplicate field selected: {column}");
                    return Err(FieldError::new(errors::INVALID_FIELD, message, &[]));
                }
                list.items.push(OutItem::Column(list.columns.len()));
                list.slots.push(slot);
                list.columns.push(column);
            }
        }
        Ok(list)
    }

    /// The select list of an aggregate query: grouped fields and aggregate functions.
    fn aggregate_list(&mut self, query: &Query) -> Result<SelectList, FieldError> {
        let mut keys = Vec::with_capacity(query.group_by.len());
        for path in &query.group_by {
            keys.push(self.resolve_path(path)?);
        }
        let mut columns = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut unnamed = 0;
        for item in &query.select {
            let (column, name) = match item {
                SelectItem::Field(path) => {
                    let (slot, canonical) = self.resolve_path(path)?;
                    let Some(key) = keys.iter().position(|(s, _)| *s == slot) else {
                        let message = format!("Field must be grouped or aggregated: {canonical}");
                        return Err(errors::at(
                            self.soql,
                            path.at,
                            errors::MALFORMED_QUERY,
                            &message,
                        ));
                    };
                    let field = canonical
                        .rsplit('.')
                        .next()
                        .unwrap_or(&canonical)
                        .to_string();
                    (Column::Key(key), field)
                }
                SelectItem::Aggregate { call, alias } => {
                    let slot = self.aggregate_slot(call)?;
                    // Unaliased aggregates are named expr0, expr1, … in order, as in Salesforce.
                    let name = alias.clone().unwrap_or_else(|| {
                        unnamed += 1;
                        format!("expr{}", unnamed - 1)
                    });
                    (
                        Column::Aggregate {
                            function: call.function,
                            slot,
                        },
                        name,
                    )
                }
                SelectItem::Fields { at, .. } | SelectItem::CountAll { at } => {
                    let message =
                        "Aggregate queries select only grouped fields and aggregate functions";
                    return Err(errors::at(self.soql, *at, errors::MALFORMED_QUERY, message));
                }
                SelectItem::Subquery(sub) => {
                    let message = "Aggregate queries cannot have subqueries";
                    return Err(errors::at(
                        self.soql,
                        sub.object_at,
                        errors::MALFORMED_QUERY,
                        message,
                    ));
                }
            };
            if names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                return Err(FieldError::new(
                    errors::INVALID_FIELD,
                    format!("duplicate alias: {name}"),
                    &[],
                ));
            }
            columns.push(column);
            names.push(name);
        }
        let grouping = Grouping {
            keys: keys.into_iter().map(|(slot, _)| slot).collect(),
            columns,
        };
        Ok(SelectList {
            shape: Shape::Aggregate,
            slots: Vec::new(),
            columns: names,
            items: Vec::new(),
            subqueries: Vec::new(),
            grouping: Some(grouping),
        })
    }

    /// The field an aggregate function reads, checked against the function.
    fn aggregate_slot(&mut self, call: &AggregateCall) -> Result<Slot, FieldError> {
        let slot = self.slot(&call.path)?;
        if !aggregate::accepts(call.function, slot.field_type) {
            let message = format!(
                "Invalid field {} for {:?} aggregate",
                call.path.text(),
                call.function
            );
            return Err(errors::at(
                self.soql,
                call.path.at,
                errors::MALFORMED_QUERY,
                &message,
            ));
        }
        Ok(slot)
    }

    /// `ORDER BY` keys: fields of the rows, or for aggregate queries, output columns.
    fn order(
        &mut self,
        query: &Query,
        grouping: Option<&Grouping>,
    ) -> Result<Vec<OrderSlot>, FieldError> {
        let mut order = Vec::with_capacity(query.order_by.len());
        for key in &query.order_by {
            let slot = match (grouping, key.function) {
                (None, None) => self.slot(&key.path)?,
                (None, Some(_)) => {
                    let message = "Aggregate functions in ORDER BY need an aggregate query";
                    return Err(errors::at(
                        self.soql,
                        key.path.at,
                        errors::MALFORMED_QUERY,
                        message,
                    ));
                }
                (Some(grouping), function) => self.output_slot(grouping, &key.path, function)?,
            };
            let nulls_first = key.nulls_first.unwrap_or(!key.descending);
            order.push(OrderSlot {
                slot,
                descending: key.descending,
                nulls_first,
            });
        }
        Ok(order)
    }

    /// The output column of an aggregate query that `ORDER BY path` or `ORDER BY f(path)` names.
    fn output_slot(
        &mut self,
        grouping: &Grouping,
        path: &Path,
        function: Option<Function>,
    ) -> Result<Slot, FieldError> {
        let slot = self.slot(path)?;
        let column = grouping
            .columns
            .iter()
            .position(|column| match (*column, function) {
                (Column::Key(i), None) => grouping.keys[i] == slot,
                (
                    Column::Aggregate {
                        function: f,
                        slot: s,
                    },
                    Some(wanted),
                ) => f == wanted && s == slot,
                _ => false,
            });
        let Some(column) = column else {
            let message = format!(
                "ORDER BY {} must be in the select list of an aggregate query (sfscale-emulator)",
                path.text()
            );
            return Err(errors::at(
                self.soql,
                path.at,
                errors::MALFORMED_QUERY,
                &message,
            ));
        };
        Ok(Slot {
            node: 0,
            column,
            field_type: grouping.columns[column].field_type(&grouping.keys),
        })
    }

    /// Resolves the query of a semi-join: it must select exactly one id or reference field.
    pub fn semi_join(&self, query: &Query) -> Result<Prepared, FieldError> {
        let prepared = resolve(self.schema, self.soql, query, self.today)?;
        let one_id = prepared.shape == Shape::Records
            && prepared.subqueries.is_empty()
            && matches!(prepared.select.as_slice(), [slot] if matches!(slot.field_type, FieldType::Id | FieldType::Reference));
        if !one_id {
            let message = "A semi join subquery must select exactly one Id or reference field";
            return Err(errors::at(
                self.soql,
                query.object_at,
                errors::MALFORMED_QUERY,
                message,
            ));
        }
        Ok(prepared)
    }

    /// Resolves `(SELECT … FROM <child relationship> …)` against the queried object.
    fn subquery(&self, query: &Query) -> Result<Subquery, FieldError> {
        let parent = self.object(0);
        let (child, lookup) = self.schema.child_relationship(&parent.name, &query.object).ok_or_else(|| {
            let message = format!("Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", query.object);
            errors::at(self.soql, query.object_at, errors::INVALID_TYPE, &message)
        })?;
        let child_query = Query {
            object: child.name.clone(),
            ..query.clone()
        };
        let mut prepared = resolve(self.schema, self.soql, &child_query, self.today)?;
        if prepared.shape != Shape::Records {
            let message = "Aggregate functions in a subquery are not supported by sfscale-emulator";
            return Err(errors::at(
                self.soql,
                query.object_at,
                errors::MALFORMED_QUERY,
                message,
            ));
        }
        let index = child
            .field_index(&lookup.name)
            .expect("the lookup is a child field");
        let lookup_slot = prepared.base_slot(index, FieldType::Reference);
        let name = child_relationship_name(child, lookup).unwrap_or_else(|| query.object.clone());
        Ok(Subquery {
            name,
            prepared,
            lookup: lookup_slot,
        })
    }

    /// The queried object's fields `FIELDS(group)` names; `ALL` and `CUSTOM` need a
    /// `LIMIT` of at most 200, as in Salesforce.
    fn field_group(
        &mut self,
        query: &Query,
        group: FieldGroup,
        at: usize,
    ) -> Result<Vec<(Slot, String)>, FieldError> {
        let bounded = query
            .limit
            .is_some_and(|l| l.value <= MAX_UNBOUNDED_FIELDS_LIMIT);
        if group != FieldGroup::Standard && !bounded {
            let message = "The SOQL FIELDS function must have a LIMIT of at most 200";
            return Err(errors::at(self.soql, at, errors::MALFORMED_QUERY, message));
        }
        let names: Vec<String> = self
            .object(0)
            .fields
            .iter()
            .map(|f| f.name.clone())
            .filter(|name| match group {
                FieldGroup::All => true,
                FieldGroup::Standard => !name.ends_with("__c"),
                FieldGroup::Custom => name.ends_with("__c"),
            })
            .collect();
        names
            .into_iter()
            .map(|name| {
                self.resolve_path(&Path {
                    segments: vec![name],
                    at,
                })
            })
            .collect()
    }

    fn object(&self, node: usize) -> &'a ObjectDef {
        self.schema
            .object(&self.nodes[node].object)
            .expect("nodes name schema objects")
    }

    /// The column of field `field` in node `node`, adding it to the node if new.
    fn column(&mut self, node: usize, field: usize) -> usize {
        let fields = &mut self.nodes[node].fields;
        fields.iter().position(|&f| f == field).unwrap_or_else(|| {
            fields.push(field);
            fields.len() - 1
        })
    }

    /// The node reached from `parent` through the lookup at `lookup_column`, added if new.
    fn child(
        &mut self,
        parent: usize,
        lookup_column: usize,
        relationship: &str,
        object: &str,
    ) -> usize {
        let existing = self
            .nodes
            .iter()
            .position(|n| n.parent == Some((parent, lookup_column)));
        existing.unwrap_or_else(|| {
            let node = Node {
                object: object.to_string(),
                parent: Some((parent, lookup_column)),
                relationship: relationship.to_string(),
                fields: vec![0],
            };
            self.nodes.push(node);
            self.nodes.len() - 1
        })
    }

    /// The segments of `path` after an optional leading name of the queried object
    /// (`Account.Name` on Account means `Name`).
    fn relative<'p>(&self, path: &'p Path) -> &'p [String] {
        let root = self.object(0);
        let first = &path.segments[0];
        if path.segments.len() > 1
            && first.eq_ignore_ascii_case(&root.name)
            && root.relationship(first).is_none()
        {
            &path.segments[1..]
        } else {
            &path.segments
        }
    }

    /// Resolves a field path to a slot, creating parent nodes as needed.
    pub fn slot(&mut self, path: &Path) -> Result<Slot, FieldError> {
        self.resolve_path(path).map(|(slot, _)| slot)
    }

    /// Resolves a field path to a slot and its canonical dotted name (`Account.Name`).
    fn resolve_path(&mut self, path: &Path) -> Result<(Slot, String), FieldError> {
        let segments = self.relative(path);
        if segments.len() > MAX_RELATIONSHIP_HOPS + 1 {
            let message = format!("SOQL statements cannot query relationships that are more than {MAX_RELATIONSHIP_HOPS} levels away from the root entity object.");
            return Err(errors::at(
                self.soql,
                path.at,
                errors::MALFORMED_QUERY,
                &message,
            ));
        }
        let mut canonical = Vec::with_capacity(segments.len());
        let (field_name, hops) = segments.split_last().expect("paths have a segment");
        let mut node = 0;
        for hop in hops {
            let object = self.object(node);
            let Some(lookup) = object.relationship(hop) else {
                let message = format!("Didn't understand relationship '{hop}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.");
                return Err(errors::at(
                    self.soql,
                    path.at,
                    errors::INVALID_FIELD,
                    &message,
                ));
            };
            let lookup_index = object
                .field_index(&lookup.name)
                .expect("relationship is a field");
            let relationship = lookup.relationship_name.clone().unwrap_or_default();
            let target = lookup.reference_to[0].clone();
            canonical.push(relationship.clone());
            let column = self.column(node, lookup_index);
            node = self.child(node, column, &relationship, &target);
        }
        let object = self.object(node);
        let Some(index) = object.field_index(field_name) else {
            let message = format!("No such column '{field_name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", object.name);
            return Err(errors::at(
                self.soql,
                path.at,
                errors::INVALID_FIELD,
                &message,
            ));
        };
        let field_type = object.fields[index].field_type;
        canonical.push(object.fields[index].name.clone());
        Ok((
            Slot {
                node,
                column: self.column(node, index),
                field_type,
            },
            canonical.join("."),
        ))
    }
}

/// Groups the select columns into nested parent objects, each placed where its first
/// field appears in the select list.
fn output_tree(nodes: &[Node], list: &SelectList) -> Vec<OutEntry> {
    let mut root = Vec::new();
    for item in &list.items {
        let column = match *item {
            OutItem::Children(index) => {
                root.push(OutEntry::Children {
                    name: list.subqueries[index].name.clone(),
                    index,
                });
                continue;
            }
            OutItem::Column(column) => column,
        };
        let mut chain = Vec::new();
        let mut node = list.slots[column].node;
        while let Some((parent, _)) = nodes[node].parent {
            chain.push(node);
            node = parent;
        }
        let mut entries = &mut root;
        for &node in chain.iter().rev() {
            entries = parent_entries(entries, node, &nodes[node].relationship);
        }
        let name = &list.columns[column];
        let field = name.rsplit('.').next().unwrap_or(name).to_string();
        entries.push(OutEntry::Field {
            name: field,
            column,
        });
    }
    root
}

fn parent_entries<'e>(
    entries: &'e mut Vec<OutEntry>,
    node: usize,
    name: &str,
) -> &'e mut Vec<OutEntry> {
    let position = entries
        .iter()
        .position(|e| matches!(e, OutEntry::Parent { node: n, .. } if *n == node));
    let position = position.unwrap_or_else(|| {
        entries.push(OutEntry::Parent {
            name: name.to_string(),
            node,
            entries: Vec::new(),
        });
        entries.len() - 1
    });
    match &mut entries[position] {
        OutEntry::Parent { entries, .. } => entries,
        OutEntry::Field { .. } | OutEntry::Children { .. } => {
            unreachable!("position found a parent")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::default_custom_fields;
    use crate::soql::parser::parse;

    fn prepare(soql: &str) -> Result<Prepared, FieldError> {
        let schema = Schema::build(&[], &default_custom_fields()).unwrap();
        let today = NaiveDate::from_ymd_opt(2024, 5, 15).unwrap();
        resolve(&schema, soql, &parse(soql)?, today)
    }

    #[test]
    fn names_resolve_case_insensitively_to_canonical_columns() {
        let p = prepare("select id, account.name, ACCOUNT.owner.email, owner.NAME from contact")
            .unwrap();
        assert_eq!(p.object_name(), "Contact");
        assert_eq!(
            p.columns(),
            ["Id", "Account.Name", "Account.Owner.Email", "Owner.Name"]
        );
        assert_eq!(p.nodes.len(), 4, "{:?}", p.nodes);
        assert_eq!(p.nodes[1].object, "Account");
        assert_eq!(p.nodes[2].object, "User");
        assert_eq!(p.nodes[2].parent.map(|(n, _)| n), Some(1));
    }

    #[test]
    fn a_leading_object_name_is_accepted() {
        assert_eq!(
            prepare("SELECT Account.Name FROM Account")
                .unwrap()
                .columns(),
            ["Name"]
        );
    }

    #[test]
    fn parents_group_in_select_order_in_the_output_tree() {
        let p = prepare("SELECT Account.Name, Id, Account.Industry FROM Contact").unwrap();
        let [OutEntry::Parent { name, entries, .. }, OutEntry::Field { name: id, .. }] =
            p.output.as_slice()
        else {
            panic!("{:?}", p.output)
        };
        assert_eq!((name.as_str(), id.as_str()), ("Account", "Id"));
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn unknown_names_get_salesforce_errors() {
        let e = prepare("SELECT Id FROM Contact123").unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
        assert!(e.message.starts_with("\nSELECT Id FROM Contact123\n               ^\nERROR at Row:1:Column:16\nsObject type 'Contact123' is not supported."), "{}", e.message);
        let e = prepare("SELECT Id, Foo FROM Account").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        assert!(e.message.starts_with("\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name."), "{}", e.message);
        let e = prepare("SELECT Id FROM Contact WHERE Account.Nope = 'x'").unwrap_err();
        assert!(
            e.message
                .contains("No such column 'Nope' on entity 'Account'"),
            "{}",
            e.message
        );
        let e = prepare("SELECT Acct.Name FROM Contact").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        assert!(
            e.message
                .contains("Column:8\nDidn't understand relationship 'Acct' in field path."),
            "{}",
            e.message
        );
        let e = prepare("SELECT Id FROM Account ORDER BY Nope").unwrap_err();
        assert!(e.message.contains("No such column 'Nope'"), "{}", e.message);
    }

    #[test]
    fn paths_follow_at_most_five_relationships() {
        prepare("SELECT Parent.Parent.Parent.Parent.Parent.Name FROM Account").unwrap();
        let e = prepare("SELECT Parent.Parent.Parent.Parent.Parent.Parent.Name FROM Account")
            .unwrap_err();
        assert!(
            e.message.contains("more than 5 levels away"),
            "{}",
            e.message
        );
    }

    #[test]
    fn duplicates_offsets_and_aggregate_mixes_are_rejected() {
        assert_eq!(
            prepare("SELECT Id, Name, id FROM Account")
                .unwrap_err()
                .message,
            "duplicate field selected: Id"
        );
        let e = prepare("SELECT Id FROM Account OFFSET 2001").unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "NUMBER_OUTSIDE_VALID_RANGE",
                "Maximum SOQL offset allowed is 2000"
            )
        );
        assert!(prepare("SELECT Id FROM Account OFFSET 2000").is_ok());
        let e = prepare("SELECT Name, COUNT(Id) FROM Account").unwrap_err();
        assert!(
            e.message
                .ends_with("Field must be grouped or aggregated: Name"),
            "{}",
            e.message
        );
    }

    #[test]
    fn fields_function_expands_to_the_object_fields() {
        let p = prepare("SELECT FIELDS(CUSTOM) FROM Account LIMIT 200").unwrap();
        assert_eq!(p.columns(), ["External_Id__c"]);
        let p = prepare("SELECT FIELDS(STANDARD), Owner.Name FROM Contact").unwrap();
        assert_eq!(p.columns()[..2], ["Id", "IsDeleted"]);
        assert_eq!(p.columns().last().unwrap(), "Owner.Name");
        assert!(!p.columns().contains(&"External_Id__c".to_string()));
        let e = prepare("SELECT FIELDS(ALL) FROM Account").unwrap_err();
        assert!(
            e.message
                .ends_with("The SOQL FIELDS function must have a LIMIT of at most 200"),
            "{}",
            e.message
        );
        let e = prepare("SELECT Id, FIELDS(ALL) FROM User LIMIT 200").unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("INVALID_FIELD", "duplicate field selected: Id")
        );
    }

    #[test]
    fn count_shapes() {
        let p = prepare("SELECT COUNT() FROM Account").unwrap();
        assert!(p.is_count() && p.columns().is_empty());
        let p = prepare("SELECT COUNT(Id), COUNT(Name) n FROM Account").unwrap();
        assert!(p.is_aggregate());
        assert_eq!(p.columns(), ["expr0", "n"]);
    }
}
