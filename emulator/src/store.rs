//! In-memory record storage for one org: records per object, unique and external-id
//! indexes, and the DML rules every write path shares (REST, collections, composite, bulk).
//!
//! Records are positional (`values[i]` is the object's `fields[i]`), which keeps a million
//! bulk rows affordable. Each object has its own lock so a bulk load of Contacts does not
//! stall reads of Accounts. Ids are minted per object in creation order, so iterating a
//! table's `BTreeMap` yields records oldest first, which keeps unordered queries stable.
//!
//! Row locking (`UNABLE_TO_LOCK_ROW`) is not decided here: callers ask [`Store::parents_to_lock`]
//! which parent rows a write holds and take them from [`crate::locks`] around the write.

use crate::ids;
use crate::schema::{FieldDef, FieldType, ObjectDef, Schema};
use crate::values::{self, FieldError};
use parking_lot::RwLock;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One stored record; `values[i]` belongs to `ObjectDef::fields[i]`.
#[derive(Debug, Clone)]
pub struct Record {
    pub values: Box<[Value]>,
}

impl Record {
    /// The value of `field` (by name, case-insensitively), if the object has that field.
    pub fn get<'a>(&'a self, object: &ObjectDef, field: &str) -> Option<&'a Value> {
        object.field_index(field).map(|i| &self.values[i])
    }

    /// The record's 18-character id.
    pub fn id(&self) -> &str {
        self.values[0].as_str().unwrap_or_default()
    }

    /// Whether the record is in the recycle bin.
    pub fn is_deleted(&self) -> bool {
        self.values[1].as_bool().unwrap_or(false)
    }

    /// The record as a REST JSON object: `attributes` then every field (nulls included).
    pub fn to_json(&self, object: &ObjectDef, api_version: &str) -> Map<String, Value> {
        let mut map = Map::with_capacity(object.fields.len() + 1);
        map.insert(
            "attributes".into(),
            attributes(object, self.id(), api_version),
        );
        for (field, value) in object.fields.iter().zip(self.values.iter()) {
            map.insert(field.name.clone(), value.clone());
        }
        map
    }
}

/// The `attributes` object REST puts on every record.
pub fn attributes(object: &ObjectDef, id: &str, api_version: &str) -> Value {
    serde_json::json!({
        "type": object.name,
        "url": format!("/services/data/v{api_version}/sobjects/{}/{id}", object.name),
    })
}

/// Field changes for one write: `(field index, canonical value)`.
pub type Changes = Vec<(usize, Value)>;

/// Whether a write creates or changes a record (decides which fields may be set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Insert,
    Update,
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    Created(String),
    Updated(String),
}

/// Why an upsert did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertError {
    /// Several records share the external id value (REST answers 300 with their urls).
    Multiple(Vec<String>),
    Invalid(FieldError),
}

impl From<FieldError> for UpsertError {
    fn from(e: FieldError) -> Self {
        UpsertError::Invalid(e)
    }
}

#[derive(Default)]
struct Table {
    records: BTreeMap<String, Record>,
    next_sequence: u64,
    /// field index → lower-cased value → ids holding it (live records only).
    indexes: HashMap<usize, HashMap<String, Vec<String>>>,
}

impl Table {
    fn index_key(value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(s.to_lowercase()),
            other => Some(other.to_string()),
        }
    }

    fn unindex(&mut self, object: &ObjectDef, record: &Record) {
        for field in object.unique_fields() {
            let i = object.field_index(&field.name).expect("own field");
            if let Some(key) = Self::index_key(&record.values[i]) {
                if let Some(ids) = self.indexes.entry(i).or_default().get_mut(&key) {
                    ids.retain(|id| id != record.id());
                }
            }
        }
    }

    fn reindex(&mut self, object: &ObjectDef, record: &Record) {
        for field in object.unique_fields() {
            let i = object.field_index(&field.name).expect("own field");
            if let Some(key) = Self::index_key(&record.values[i]) {
                self.indexes
                    .entry(i)
                    .or_default()
                    .entry(key)
                    .or_default()
                    .push(record.id().to_string());
            }
        }
    }

    fn lookup(&self, field_index: usize, value: &Value) -> &[String] {
        Self::index_key(value)
            .and_then(|key| self.indexes.get(&field_index)?.get(&key))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// All records of one org.
pub struct Store {
    schema: Arc<Schema>,
    tables: HashMap<String, RwLock<Table>>,
    /// Two characters after the key prefix of every minted id (the "pod").
    pod: String,
    /// The integration user every write is attributed to.
    user_id: String,
}

impl Store {
    /// An empty store for `schema`; writes are attributed to `user_id`.
    pub fn new(schema: Arc<Schema>, pod: &str, user_id: &str) -> Self {
        let tables = schema
            .objects
            .iter()
            .map(|o| (o.name.clone(), RwLock::new(Table::default())))
            .collect();
        Store {
            schema,
            tables,
            pod: pod.to_string(),
            user_id: user_id.to_string(),
        }
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    fn table(&self, object: &ObjectDef) -> &RwLock<Table> {
        &self.tables[&object.name]
    }

    /// Removes every record (control endpoint `reset`).
    pub fn clear(&self) {
        for table in self.tables.values() {
            *table.write() = Table::default();
        }
    }

    /// Live (not deleted) record count per object, for `stats`.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.tables
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    t.read()
                        .records
                        .values()
                        .filter(|r| !r.is_deleted())
                        .count(),
                )
            })
            .collect()
    }

    /// Resolves a REST JSON body to changes. Unknown fields → `INVALID_FIELD`; fields the
    /// mode may not set → `INVALID_FIELD_FOR_INSERT_UPDATE`; `attributes` is ignored.
    /// A relationship object such as `"Account": {"External_Id__c": "A-1"}` resolves the
    /// parent by external id into the lookup field.
    pub fn changes_from_json(
        &self,
        object: &ObjectDef,
        body: &Map<String, Value>,
        mode: WriteMode,
    ) -> Result<Changes, FieldError> {
        let mut changes = Changes::with_capacity(body.len());
        for (name, value) in body {
            if name == "attributes" {
                continue;
            }
            if let (Value::Object(reference), Some(lookup)) = (value, object.relationship(name)) {
                let id = self.resolve_reference(lookup, reference)?;
                changes.push((
                    object.field_index(&lookup.name).expect("own field"),
                    Value::String(id),
                ));
                continue;
            }
            let (index, field) = settable_field(object, name, mode)?;
            changes.push((index, values::from_json(field, value)?));
        }
        Ok(changes)
    }

    /// Resolves one Bulk CSV row against its header. Empty cells leave fields unchanged;
    /// `Rel.ExtField` columns resolve the parent by external id.
    pub fn changes_from_csv(
        &self,
        object: &ObjectDef,
        header: &[String],
        row: &[&str],
        mode: WriteMode,
    ) -> Result<Changes, FieldError> {
        let mut changes = Changes::with_capacity(row.len());
        for (name, cell) in header.iter().zip(row) {
            if let Some((relationship, ext_field)) = name.split_once('.') {
                let lookup = object
                    .relationship(relationship)
                    .ok_or_else(|| no_such_column(object, name))?;
                if cell.is_empty() {
                    continue;
                }
                let reference: Map<String, Value> =
                    [(ext_field.to_string(), Value::String(cell.to_string()))]
                        .into_iter()
                        .collect();
                let id = self.resolve_reference(lookup, &reference)?;
                changes.push((
                    object.field_index(&lookup.name).expect("own field"),
                    Value::String(id),
                ));
                continue;
            }
            let (index, field) = settable_field(object, name, mode)?;
            if let Some(value) = values::from_csv(field, cell)? {
                changes.push((index, value));
            }
        }
        Ok(changes)
    }

    fn resolve_reference(
        &self,
        lookup: &FieldDef,
        reference: &Map<String, Value>,
    ) -> Result<String, FieldError> {
        let parent = self
            .schema
            .object(&lookup.reference_to[0])
            .expect("checked at schema build");
        let (ext_name, ext_value) = reference
            .iter()
            .find(|(k, _)| k.as_str() != "attributes")
            .ok_or_else(|| {
                FieldError::new(
                    "INVALID_FIELD",
                    "Foreign key external ID: missing field",
                    &[&lookup.name],
                )
            })?;
        let ext = parent
            .field(ext_name)
            .filter(|f| f.external_id || f.id_lookup)
            .ok_or_else(|| {
                FieldError::new(
                    "INVALID_FIELD",
                    format!(
                        "Foreign key external ID: {ext_name} not found on {}",
                        parent.name
                    ),
                    &[&lookup.name],
                )
            })?;
        let value = values::from_json(ext, ext_value)?;
        let ids = self.find_by_field(parent, &ext.name, &value);
        match ids.as_slice() {
            [id] => Ok(id.clone()),
            [] => Err(FieldError::new(
                "INVALID_FIELD",
                format!(
                    "Foreign key external ID: {} not found for field {} in entity {}",
                    values::to_csv(&value, None),
                    ext.name,
                    parent.name
                ),
                &[&lookup.name],
            )),
            _ => Err(FieldError::new(
                "INVALID_FIELD",
                format!(
                    "Foreign key external ID: {} matched more than one record",
                    values::to_csv(&value, None)
                ),
                &[&lookup.name],
            )),
        }
    }

    /// Ids of live records whose `field` equals `value` (indexed for unique/external-id
    /// fields and `Id`; scanned otherwise).
    pub fn find_by_field(&self, object: &ObjectDef, field: &str, value: &Value) -> Vec<String> {
        let Some(index) = object.field_index(field) else {
            return Vec::new();
        };
        let table = self.table(object).read();
        if index == 0 {
            let id = value.as_str().and_then(ids::normalize);
            return id
                .filter(|id| table.records.get(id).is_some_and(|r| !r.is_deleted()))
                .into_iter()
                .collect();
        }
        if table.indexes.contains_key(&index)
            || object.fields[index].unique
            || object.fields[index].external_id
        {
            return table.lookup(index, value).to_vec();
        }
        let wanted = Table::index_key(value);
        table
            .records
            .values()
            .filter(|r| !r.is_deleted() && Table::index_key(&r.values[index]) == wanted)
            .map(|r| r.id().to_string())
            .collect()
    }

    /// Inserts a record and returns its id.
    pub fn insert(&self, object: &ObjectDef, changes: Changes) -> Result<String, FieldError> {
        self.check_references(object, &changes)?;
        let mut table = self.table(object).write();
        let mut values = vec![Value::Null; object.fields.len()];
        for (field, value) in object.fields.iter().zip(values.iter_mut()) {
            if let Some(default) = &field.default_value {
                *value = default.clone();
            }
        }
        for (i, value) in changes {
            values[i] = value;
        }
        if let Some(missing) = object
            .fields
            .iter()
            .zip(values.iter())
            .find(|(f, v)| f.required_on_create() && v.is_null())
        {
            let name = missing.0.name.as_str();
            return Err(FieldError::new(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{name}]"),
                &[name],
            ));
        }
        table.next_sequence += 1;
        let id = ids::mint(&object.key_prefix, &self.pod, table.next_sequence);
        let now = Value::String(values::now());
        let user = Value::String(self.user_id.clone());
        set(object, &mut values, "Id", Value::String(id.clone()));
        set(object, &mut values, "IsDeleted", Value::Bool(false));
        for stamp in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
            set(object, &mut values, stamp, now.clone());
        }
        for by in ["CreatedById", "LastModifiedById"] {
            set(object, &mut values, by, user.clone());
        }
        if object
            .field_index("OwnerId")
            .is_some_and(|i| values[i].is_null())
        {
            set(object, &mut values, "OwnerId", user);
        }
        if object.name == "Case" {
            set(
                object,
                &mut values,
                "CaseNumber",
                Value::String(format!("{:08}", table.next_sequence)),
            );
        }
        compute_name(object, &mut values);
        let record = Record {
            values: values.into_boxed_slice(),
        };
        check_unique(object, &table, &record)?;
        table.reindex(object, &record);
        table.records.insert(id.clone(), record);
        Ok(id)
    }

    /// Updates a live record. Unknown ids → `ENTITY_IS_DELETED`/`NOT_FOUND`-style errors.
    pub fn update(&self, object: &ObjectDef, id: &str, changes: Changes) -> Result<(), FieldError> {
        self.check_references(object, &changes)?;
        let mut table = self.table(object).write();
        let current = live(&table, object, id)?.clone();
        let mut updated = current.clone();
        for (i, value) in changes.into_iter().filter(|(i, _)| *i != 0) {
            if object.fields[i].required_on_create() && value.is_null() {
                let name = object.fields[i].name.as_str();
                return Err(FieldError::new(
                    "REQUIRED_FIELD_MISSING",
                    format!("Required fields are missing: [{name}]"),
                    &[name],
                ));
            }
            updated.values[i] = value;
        }
        let now = Value::String(values::now());
        set(object, &mut updated.values, "LastModifiedDate", now.clone());
        set(object, &mut updated.values, "SystemModstamp", now);
        compute_name(object, &mut updated.values);
        table.unindex(object, &current);
        if let Err(e) = check_unique(object, &table, &updated) {
            table.reindex(object, &current);
            return Err(e);
        }
        table.reindex(object, &updated);
        table.records.insert(current.id().to_string(), updated);
        Ok(())
    }

    /// Upserts by external id: no match inserts (unless `update_only`), one match updates,
    /// several → [`UpsertError::Multiple`].
    pub fn upsert(
        &self,
        object: &ObjectDef,
        ext_field: &str,
        ext_value: &Value,
        mut changes: Changes,
        update_only: bool,
    ) -> Result<Upserted, UpsertError> {
        let ext_index = object
            .field_index(ext_field)
            .expect("caller resolved the field");
        let matches = self.find_by_field(object, ext_field, ext_value);
        match matches.as_slice() {
            [] if update_only => {
                Err(
                    FieldError::new("NOT_FOUND", "The requested resource does not exist", &[])
                        .into(),
                )
            }
            [] => {
                if ext_index != 0 && !changes.iter().any(|(i, _)| *i == ext_index) {
                    changes.push((ext_index, ext_value.clone()));
                }
                Ok(Upserted::Created(self.insert(object, changes)?))
            }
            [id] => {
                changes.retain(|(i, _)| *i != 0);
                self.update(object, id, changes)?;
                Ok(Upserted::Updated(id.clone()))
            }
            many => Err(UpsertError::Multiple(many.to_vec())),
        }
    }

    /// Moves a record to the recycle bin (`hard` removes it outright).
    pub fn delete(&self, object: &ObjectDef, id: &str, hard: bool) -> Result<(), FieldError> {
        let mut table = self.table(object).write();
        let record = live(&table, object, id)?.clone();
        table.unindex(object, &record);
        if hard {
            table.records.remove(record.id());
        } else if let Some(stored) = table.records.get_mut(record.id()) {
            stored.values[1] = Value::Bool(true);
            set(
                object,
                &mut stored.values,
                "SystemModstamp",
                Value::String(values::now()),
            );
        }
        Ok(())
    }

    /// Puts a record back exactly as it was before an update or delete (rollback of an
    /// all-or-none transaction); the unique indexes follow.
    pub fn restore(&self, object: &ObjectDef, record: Record) {
        let mut table = self.table(object).write();
        if let Some(current) = table
            .records
            .get(record.id())
            .filter(|r| !r.is_deleted())
            .cloned()
        {
            table.unindex(object, &current);
        }
        if !record.is_deleted() {
            table.reindex(object, &record);
        }
        table.records.insert(record.id().to_string(), record);
    }

    /// A copy of a record by id (15 or 18 characters); deleted records only if asked.
    pub fn get(&self, object: &ObjectDef, id: &str, include_deleted: bool) -> Option<Record> {
        let id = ids::normalize(id)?;
        let table = self.table(object).read();
        table
            .records
            .get(&id)
            .filter(|r| include_deleted || !r.is_deleted())
            .cloned()
    }

    /// Any record by id, whatever its object (resolved from the key prefix).
    pub fn get_any(&self, id: &str) -> Option<(&ObjectDef, Record)> {
        let id = ids::normalize(id)?;
        let object = self.schema.object_by_prefix(ids::key_prefix(&id))?;
        self.get(object, &id, false).map(|r| (object, r))
    }

    /// Calls `visit` for each record in creation order until it returns `false`. The
    /// table's read lock is held throughout: keep `visit` cheap and never write from it.
    pub fn scan(
        &self,
        object: &ObjectDef,
        include_deleted: bool,
        mut visit: impl FnMut(&Record) -> bool,
    ) {
        let table = self.table(object).read();
        for record in table.records.values() {
            if (include_deleted || !record.is_deleted()) && !visit(record) {
                break;
            }
        }
    }

    /// Parent rows a write of `changes` to the record `existing` (if any) holds locks on,
    /// per the schema's locking lookups (e.g. Contact → its Account).
    pub fn parents_to_lock(
        &self,
        object: &ObjectDef,
        changes: &Changes,
        existing: Option<&Record>,
    ) -> Vec<String> {
        let mut parents: Vec<String> = object
            .locking_lookups()
            .filter_map(|field| {
                let i = object.field_index(&field.name)?;
                let new = changes.iter().find(|(ci, _)| *ci == i).map(|(_, v)| v);
                new.or_else(|| existing.map(|r| &r.values[i]))?
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        parents.sort();
        parents.dedup();
        parents
    }

    fn check_references(&self, object: &ObjectDef, changes: &Changes) -> Result<(), FieldError> {
        for (i, value) in changes {
            let field = &object.fields[*i];
            let (FieldType::Reference, Some(id)) = (field.field_type, value.as_str()) else {
                continue;
            };
            let target_ok = self.get_any(id).is_some_and(|(target, _)| {
                field
                    .reference_to
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&target.name))
            });
            if !target_ok {
                return Err(FieldError::new(
                    "INVALID_CROSS_REFERENCE_KEY",
                    format!("invalid cross reference id: {id}"),
                    &[&field.name],
                ));
            }
        }
        Ok(())
    }
}

fn settable_field<'a>(
    object: &'a ObjectDef,
    name: &str,
    mode: WriteMode,
) -> Result<(usize, &'a FieldDef), FieldError> {
    let index = object
        .field_index(name)
        .ok_or_else(|| no_such_column(object, name))?;
    let field = &object.fields[index];
    let allowed = match mode {
        WriteMode::Insert => field.createable,
        WriteMode::Update => field.updateable || index == 0,
    };
    if !allowed {
        return Err(FieldError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", field.name),
            &[&field.name],
        ));
    }
    Ok((index, field))
}

/// `INVALID_FIELD` for a column the object does not have.
pub fn no_such_column(object: &ObjectDef, name: &str) -> FieldError {
    FieldError::new(
        "INVALID_FIELD",
        format!("No such column '{name}' on sobject of type {}", object.name),
        &[name],
    )
}

fn live<'a>(table: &'a Table, object: &ObjectDef, id: &str) -> Result<&'a Record, FieldError> {
    let normalized = ids::normalize(id)
        .filter(|n| ids::key_prefix(n) == object.key_prefix)
        .ok_or_else(|| {
            FieldError::new(
                "MALFORMED_ID",
                format!("{} ID: id value of incorrect type: {id}", object.name),
                &["Id"],
            )
        })?;
    match table.records.get(&normalized) {
        Some(r) if r.is_deleted() => Err(FieldError::new(
            "ENTITY_IS_DELETED",
            "entity is deleted",
            &[],
        )),
        Some(r) => Ok(r),
        None => Err(FieldError::new(
            "NOT_FOUND",
            "The requested resource does not exist",
            &[],
        )),
    }
}

fn set(object: &ObjectDef, values: &mut [Value], field: &str, value: Value) {
    if let Some(i) = object.field_index(field) {
        values[i] = value;
    }
}

fn compute_name(object: &ObjectDef, values: &mut [Value]) {
    let (Some(name), Some(first), Some(last)) = (
        object.field_index("Name"),
        object.field_index("FirstName"),
        object.field_index("LastName"),
    ) else {
        return;
    };
    let joined = [&values[first], &values[last]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    values[name] = Value::String(joined);
}

fn check_unique(object: &ObjectDef, table: &Table, record: &Record) -> Result<(), FieldError> {
    for field in object.fields.iter().filter(|f| f.unique) {
        let i = object.field_index(&field.name).expect("own field");
        if let Some(other) = table
            .lookup(i, &record.values[i])
            .iter()
            .find(|id| *id != record.id())
        {
            return Err(FieldError::new(
                "DUPLICATE_VALUE",
                format!(
                    "duplicate value found: {} duplicates value on record with id: {other}",
                    field.name
                ),
                &[&field.name],
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::default_custom_fields;
    use serde_json::json;

    fn store() -> Store {
        let schema = Arc::new(Schema::build(&[], &default_custom_fields()).unwrap());
        Store::new(schema, "5g", "005000000000001AAA")
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn insert_sets_system_fields_and_computed_name() {
        let store = store();
        let contact = store.schema().object("Contact").unwrap().clone();
        let changes = store
            .changes_from_json(
                &contact,
                &body(json!({"FirstName": "Ada", "LastName": "Lovelace"})),
                WriteMode::Insert,
            )
            .unwrap();
        let id = store.insert(&contact, changes).unwrap();
        assert!(id.starts_with("003"));
        let record = store.get(&contact, &id[..15], false).unwrap();
        assert_eq!(record.get(&contact, "Name").unwrap(), "Ada Lovelace");
        assert_eq!(record.get(&contact, "IsDeleted").unwrap(), false);
        assert!(record
            .get(&contact, "CreatedDate")
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with("+0000"));
    }

    #[test]
    fn required_unique_and_reference_rules_give_salesforce_codes() {
        let store = store();
        let account = store.schema().object("Account").unwrap().clone();
        let contact = store.schema().object("Contact").unwrap().clone();
        let err = store.insert(&account, vec![]).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.fields.clone()),
            ("REQUIRED_FIELD_MISSING", vec!["Name".to_string()])
        );
        let a = store
            .changes_from_json(
                &account,
                &body(json!({"Name": "A", "External_Id__c": "X-1"})),
                WriteMode::Insert,
            )
            .unwrap();
        store.insert(&account, a.clone()).unwrap();
        assert_eq!(
            store.insert(&account, a).unwrap_err().code,
            "DUPLICATE_VALUE"
        );
        let bad_parent = store
            .changes_from_json(
                &contact,
                &body(json!({"LastName": "L", "AccountId": "001000000000000AAA"})),
                WriteMode::Insert,
            )
            .unwrap();
        assert_eq!(
            store.insert(&contact, bad_parent).unwrap_err().code,
            "INVALID_CROSS_REFERENCE_KEY"
        );
        let unknown = store
            .changes_from_json(&account, &body(json!({"Nope__c": 1})), WriteMode::Insert)
            .unwrap_err();
        assert_eq!(unknown.code, "INVALID_FIELD");
        let system = store
            .changes_from_json(
                &account,
                &body(json!({"CreatedDate": "2020-01-01T00:00:00Z"})),
                WriteMode::Insert,
            )
            .unwrap_err();
        assert_eq!(system.code, "INVALID_FIELD_FOR_INSERT_UPDATE");
    }

    #[test]
    fn upsert_creates_then_updates_then_reports_multiple_matches() {
        let store = store();
        let account = store.schema().object("Account").unwrap().clone();
        let key = json!("ext-1");
        let changes = store
            .changes_from_json(&account, &body(json!({"Name": "One"})), WriteMode::Insert)
            .unwrap();
        let Upserted::Created(id) = store
            .upsert(&account, "External_Id__c", &key, changes.clone(), false)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            store
                .upsert(&account, "External_Id__c", &key, changes, false)
                .unwrap(),
            Upserted::Updated(id)
        );
        for n in 0..2 {
            let c = store
                .changes_from_json(
                    &account,
                    &body(json!({"Name": format!("dup{n}"), "AccountNumber": "same"})),
                    WriteMode::Insert,
                )
                .unwrap();
            store.insert(&account, c).unwrap();
        }
        let err = store
            .upsert(&account, "AccountNumber", &json!("same"), vec![], false)
            .unwrap_err();
        assert!(matches!(err, UpsertError::Multiple(ids) if ids.len() == 2));
    }

    #[test]
    fn csv_rows_resolve_parents_by_external_id_and_report_locks() {
        let store = store();
        let account = store.schema().object("Account").unwrap().clone();
        let contact = store.schema().object("Contact").unwrap().clone();
        let a = store
            .changes_from_json(
                &account,
                &body(json!({"Name": "P", "External_Id__c": "P-1"})),
                WriteMode::Insert,
            )
            .unwrap();
        let parent = store.insert(&account, a).unwrap();
        let header = vec![
            "LastName".to_string(),
            "Account.External_Id__c".to_string(),
            "Email".to_string(),
        ];
        let changes = store
            .changes_from_csv(&contact, &header, &["Doe", "p-1", ""], WriteMode::Insert)
            .unwrap();
        assert_eq!(
            store.parents_to_lock(&contact, &changes, None),
            vec![parent.clone()]
        );
        let id = store.insert(&contact, changes).unwrap();
        assert_eq!(
            store
                .get(&contact, &id, false)
                .unwrap()
                .get(&contact, "AccountId")
                .unwrap(),
            &json!(parent)
        );
        let missing = store
            .changes_from_csv(&contact, &header, &["Doe", "P-404", ""], WriteMode::Insert)
            .unwrap_err();
        assert_eq!(missing.code, "INVALID_FIELD");
    }

    #[test]
    fn delete_moves_to_recycle_bin_and_frees_the_unique_value() {
        let store = store();
        let account = store.schema().object("Account").unwrap().clone();
        let a = store
            .changes_from_json(
                &account,
                &body(json!({"Name": "A", "External_Id__c": "X"})),
                WriteMode::Insert,
            )
            .unwrap();
        let id = store.insert(&account, a.clone()).unwrap();
        store.delete(&account, &id, false).unwrap();
        assert!(store.get(&account, &id, false).is_none());
        assert!(store.get(&account, &id, true).unwrap().is_deleted());
        assert_eq!(
            store.delete(&account, &id, false).unwrap_err().code,
            "ENTITY_IS_DELETED"
        );
        store.insert(&account, a).unwrap();
        assert_eq!(store.counts()["Account"], 1);
    }
}
