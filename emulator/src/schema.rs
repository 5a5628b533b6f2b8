//! The org's schema: which objects exist, their fields, types and relationships.
//!
//! Everything that validates or interprets data asks this module: the REST routes (field
//! names, required fields, describe), SOQL (columns, parent relationships such as
//! `Account.Name`), bulk CSV headers and the lock model (which lookups lock their parent).
//! Names are case-insensitive on the wire, so lookups go through lower-cased indexes and
//! callers get the canonical API name back.
//!
//! Standard objects carry the common fields integrations touch; the config adds custom
//! objects and fields (`__c`) on top, e.g. the unique external id `External_Id__c`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A field's data type, named as `describe` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Email,
    Phone,
    Url,
    Picklist,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    Datetime,
    Reference,
}

impl FieldType {
    /// The name `describe` reports (`"string"`, `"datetime"`, ...).
    pub fn describe_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Reference => "reference",
        }
    }

    /// Whether values of this type are text (compared as strings, `LIKE`-able).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::String
                | FieldType::Textarea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Reference
        )
    }

    /// Whether values of this type are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }

    /// Default maximum length for text types.
    fn default_length(self) -> u32 {
        match self {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::Textarea => 32_000,
            FieldType::Email | FieldType::String | FieldType::Picklist | FieldType::Url => 255,
            FieldType::Phone => 40,
            _ => 0,
        }
    }
}

/// One field of an object.
#[derive(Debug, Clone, Serialize)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    /// Given a value by the server when absent on create (defaults, system fields).
    pub defaulted_on_create: bool,
    pub unique: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    /// A write to the child holds this parent's row lock (Contact.AccountId, master-detail, ...).
    pub locks_parent: bool,
    pub picklist_values: Vec<String>,
    pub default_value: Option<serde_json::Value>,
}

impl FieldDef {
    fn new(name: &str, field_type: FieldType) -> Self {
        FieldDef {
            name: name.to_string(),
            label: label_for(name),
            field_type,
            length: field_type.default_length(),
            nillable: true,
            createable: true,
            updateable: true,
            defaulted_on_create: field_type == FieldType::Boolean,
            unique: false,
            external_id: false,
            id_lookup: false,
            reference_to: Vec::new(),
            relationship_name: None,
            locks_parent: false,
            picklist_values: Vec::new(),
            default_value: (field_type == FieldType::Boolean)
                .then_some(serde_json::Value::Bool(false)),
        }
    }

    fn required(mut self) -> Self {
        self.nillable = false;
        self
    }

    fn system(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.defaulted_on_create = true;
        self.nillable = self.field_type != FieldType::Id && self.nillable;
        self
    }

    fn length(mut self, length: u32) -> Self {
        self.length = length;
        self
    }

    fn lookup(mut self, target: &str, relationship: &str, locks_parent: bool) -> Self {
        self.reference_to = vec![target.to_string()];
        self.relationship_name = Some(relationship.to_string());
        self.locks_parent = locks_parent;
        self
    }

    fn picklist(mut self, values: &[&str], default: Option<&str>) -> Self {
        self.picklist_values = values.iter().map(|v| v.to_string()).collect();
        if let Some(d) = default {
            self.default_value = Some(serde_json::Value::String(d.to_string()));
            self.defaulted_on_create = true;
        }
        self
    }

    fn computed(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }

    /// Whether an insert must supply a value for this field.
    pub fn required_on_create(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create
    }
}

fn label_for(name: &str) -> String {
    let base = name.trim_end_matches("__c").trim_end_matches("Id");
    let base = if base.is_empty() { name } else { base };
    base.replace('_', " ")
}

/// One object (sObject type).
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    pub fields: Vec<FieldDef>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl ObjectDef {
    fn new(name: &str, key_prefix: &str, custom: bool, mut fields: Vec<FieldDef>) -> Self {
        let mut all = system_fields(name);
        all.append(&mut fields);
        let label = name.trim_end_matches("__c").replace('_', " ");
        let mut def = ObjectDef {
            name: name.to_string(),
            label_plural: format!("{label}s"),
            label,
            key_prefix: key_prefix.to_string(),
            custom,
            fields: Vec::new(),
            index: HashMap::new(),
        };
        for field in all {
            def.push_field(field);
        }
        def
    }

    /// Indexes the field under its lower-cased name and, so that the canonical spelling the
    /// emulator itself uses on every write is found without allocating, its API name.
    fn push_field(&mut self, field: FieldDef) {
        self.index
            .insert(field.name.to_ascii_lowercase(), self.fields.len());
        self.index.insert(field.name.clone(), self.fields.len());
        self.fields.push(field);
    }

    /// The field with this name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// The position of the field with this name (records are positional).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        match self.index.get(name) {
            Some(&i) => Some(i),
            None => self.index.get(&name.to_ascii_lowercase()).copied(),
        }
    }

    /// The lookup field whose relationship name is `relationship` (`Account` on Contact).
    pub fn relationship(&self, relationship: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
        })
    }

    /// Fields that are unique or external ids (kept in indexes by the store).
    pub fn unique_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.unique || f.external_id)
    }

    /// Lookups whose parent row a write to this object locks.
    pub fn locking_lookups(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.locks_parent)
    }
}

fn system_fields(object: &str) -> Vec<FieldDef> {
    use FieldType::*;
    let mut fields = vec![
        FieldDef::new("Id", Id).system(),
        FieldDef::new("IsDeleted", Boolean).system(),
        FieldDef::new("CreatedDate", Datetime).system(),
        FieldDef::new("CreatedById", Reference)
            .system()
            .lookup("User", "CreatedBy", false),
        FieldDef::new("LastModifiedDate", Datetime).system(),
        FieldDef::new("LastModifiedById", Reference)
            .system()
            .lookup("User", "LastModifiedBy", false),
        FieldDef::new("SystemModstamp", Datetime).system(),
    ];
    if object != "User" {
        let mut owner = FieldDef::new("OwnerId", Reference).lookup("User", "Owner", false);
        owner.defaulted_on_create = true;
        fields.push(owner);
    }
    fields[0].id_lookup = true;
    fields
}

/// A custom object declared in the config.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CustomObject {
    pub name: String,
    pub key_prefix: String,
    #[serde(default)]
    pub fields: Vec<CustomField>,
}

/// A custom field declared in the config, on a standard or custom object.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CustomField {
    /// The object to add the field to (ignored inside `CustomObject.fields`).
    #[serde(default)]
    pub object: String,
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub external_id: bool,
    /// For `reference` fields: the parent object.
    #[serde(default)]
    pub reference_to: Option<String>,
    /// For `reference` fields: the relationship name (default: the field name with `__c` → `__r`).
    #[serde(default)]
    pub relationship_name: Option<String>,
    /// Master-detail semantics: writes lock the parent row.
    #[serde(default)]
    pub master_detail: bool,
    #[serde(default)]
    pub picklist_values: Vec<String>,
}

impl CustomField {
    fn to_def(&self) -> FieldDef {
        let mut def = FieldDef::new(&self.name, self.field_type);
        if let Some(length) = self.length {
            def.length = length;
        }
        def.nillable = !self.required;
        def.unique = self.unique;
        def.external_id = self.external_id;
        def.id_lookup = self.unique || self.external_id;
        if let Some(parent) = &self.reference_to {
            let relationship = self
                .relationship_name
                .clone()
                .unwrap_or_else(|| self.name.trim_end_matches("__c").to_string() + "__r");
            def = def.lookup(parent, &relationship, self.master_detail);
        }
        def.picklist_values = self.picklist_values.clone();
        def
    }
}

/// The unique external id field the default org has on Account and Contact.
pub fn default_custom_fields() -> Vec<CustomField> {
    ["Account", "Contact"]
        .iter()
        .map(|object| CustomField {
            object: object.to_string(),
            name: "External_Id__c".to_string(),
            field_type: FieldType::String,
            length: Some(255),
            required: false,
            unique: true,
            external_id: true,
            reference_to: None,
            relationship_name: None,
            master_detail: false,
            picklist_values: Vec::new(),
        })
        .collect()
}

/// Schema problems found while applying the config.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("custom field {object}.{field}: unknown object {object}")]
    UnknownObject { object: String, field: String },
    #[error("custom object {0}: name must end in __c")]
    NotCustomName(String),
    #[error("custom field {0}: name must end in __c")]
    NotCustomField(String),
    #[error("object {0}: key prefix must be 3 alphanumeric characters, unique in the org")]
    BadKeyPrefix(String),
    #[error("field {0}: reference_to names an unknown object")]
    UnknownReference(String),
}

/// Every object of the org.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    pub objects: Vec<ObjectDef>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl Schema {
    /// Standard objects plus the given custom objects and fields.
    pub fn build(
        custom_objects: &[CustomObject],
        custom_fields: &[CustomField],
    ) -> Result<Self, SchemaError> {
        let mut schema = Schema {
            objects: Vec::new(),
            index: HashMap::new(),
        };
        for object in standard_objects() {
            schema.push_object(object);
        }
        for custom in custom_objects {
            if !custom.name.ends_with("__c") {
                return Err(SchemaError::NotCustomName(custom.name.clone()));
            }
            let prefix_taken = schema
                .objects
                .iter()
                .any(|o| o.key_prefix == custom.key_prefix);
            if custom.key_prefix.len() != 3
                || !custom.key_prefix.bytes().all(|b| b.is_ascii_alphanumeric())
                || prefix_taken
            {
                return Err(SchemaError::BadKeyPrefix(custom.name.clone()));
            }
            let fields = vec![FieldDef::new("Name", FieldType::String).length(80)];
            schema.push_object(ObjectDef::new(
                &custom.name,
                &custom.key_prefix,
                true,
                fields,
            ));
            for field in &custom.fields {
                schema.add_field(&custom.name, field)?;
            }
        }
        for field in custom_fields {
            schema.add_field(&field.object, field)?;
        }
        schema.check_references()?;
        Ok(schema)
    }

    fn push_object(&mut self, object: ObjectDef) {
        self.index
            .insert(object.name.to_ascii_lowercase(), self.objects.len());
        self.objects.push(object);
    }

    fn add_field(&mut self, object: &str, field: &CustomField) -> Result<(), SchemaError> {
        if !field.name.ends_with("__c") {
            return Err(SchemaError::NotCustomField(field.name.clone()));
        }
        let idx = *self
            .index
            .get(&object.to_ascii_lowercase())
            .ok_or_else(|| SchemaError::UnknownObject {
                object: object.to_string(),
                field: field.name.clone(),
            })?;
        self.objects[idx].push_field(field.to_def());
        Ok(())
    }

    fn check_references(&self) -> Result<(), SchemaError> {
        for object in &self.objects {
            for field in &object.fields {
                if field
                    .reference_to
                    .iter()
                    .any(|target| self.object(target).is_none())
                {
                    return Err(SchemaError::UnknownReference(format!(
                        "{}.{}",
                        object.name, field.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// The object with this API name, case-insensitively.
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.index
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.objects[i])
    }

    /// The object whose ids start with `prefix`.
    pub fn object_by_prefix(&self, prefix: &str) -> Option<&ObjectDef> {
        self.objects.iter().find(|o| o.key_prefix == prefix)
    }

    /// `(child object, lookup field)` pairs pointing at `parent` (for childRelationships).
    pub fn children_of<'a>(
        &'a self,
        parent: &'a str,
    ) -> impl Iterator<Item = (&'a ObjectDef, &'a FieldDef)> + 'a {
        self.objects.iter().flat_map(move |child| {
            child
                .fields
                .iter()
                .filter(move |f| {
                    f.reference_to
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(parent))
                })
                .map(move |f| (child, f))
        })
    }

    /// The child relationship of `parent` named `name` (`Contacts` on Account), as SOQL
    /// parent-to-child subqueries name it: `(child object, lookup field)`.
    pub fn child_relationship<'a>(
        &'a self,
        parent: &'a str,
        name: &str,
    ) -> Option<(&'a ObjectDef, &'a FieldDef)> {
        self.children_of(parent).find(|(child, lookup)| {
            child_relationship_name(child, lookup).is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }
}

/// The relationship name a parent uses for a lookup's children (`Contacts` on Account,
/// `ChildAccounts` for a self-lookup, `Invoices__r` for custom ones); audit lookups to
/// User (CreatedBy, Owner, ...) have none, as in a real org.
pub fn child_relationship_name(child: &ObjectDef, lookup: &FieldDef) -> Option<String> {
    if matches!(
        lookup.name.as_str(),
        "CreatedById" | "LastModifiedById" | "OwnerId"
    ) {
        return None;
    }
    if child.custom || lookup.name.ends_with("__c") {
        return Some(format!("{}__r", plural(child.name.trim_end_matches("__c"))));
    }
    let parent_is_self = lookup.reference_to.iter().any(|t| t == &child.name);
    Some(if parent_is_self {
        format!("Child{}", plural(&child.name))
    } else {
        plural(&child.name)
    })
}

fn plural(name: &str) -> String {
    match name.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None if name.ends_with('s') => format!("{name}es"),
        None => format!("{name}s"),
    }
}

fn standard_objects() -> Vec<ObjectDef> {
    use FieldType::*;
    let account = vec![
        FieldDef::new("Name", String).required(),
        FieldDef::new("AccountNumber", String).length(40),
        FieldDef::new("Type", Picklist).picklist(
            &[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Partner",
                "Other",
            ],
            None,
        ),
        FieldDef::new("Industry", Picklist).picklist(
            &[
                "Agriculture",
                "Banking",
                "Energy",
                "Retail",
                "Technology",
                "Other",
            ],
            None,
        ),
        FieldDef::new("AnnualRevenue", Currency),
        FieldDef::new("NumberOfEmployees", Int),
        FieldDef::new("Phone", Phone),
        FieldDef::new("Website", Url),
        FieldDef::new("BillingStreet", Textarea).length(255),
        FieldDef::new("BillingCity", String).length(40),
        FieldDef::new("BillingState", String).length(80),
        FieldDef::new("BillingPostalCode", String).length(20),
        FieldDef::new("BillingCountry", String).length(80),
        FieldDef::new("Description", Textarea),
        FieldDef::new("ParentId", Reference).lookup("Account", "Parent", false),
    ];
    let contact = vec![
        FieldDef::new("FirstName", String).length(40),
        FieldDef::new("LastName", String).length(80).required(),
        FieldDef::new("Name", String).length(121).computed(),
        FieldDef::new("Email", Email),
        FieldDef::new("Phone", Phone),
        FieldDef::new("Title", String).length(128),
        FieldDef::new("Birthdate", Date),
        FieldDef::new("MailingCity", String).length(40),
        FieldDef::new("MailingCountry", String).length(80),
        FieldDef::new("Description", Textarea),
        FieldDef::new("AccountId", Reference).lookup("Account", "Account", true),
    ];
    let opportunity = vec![
        FieldDef::new("Name", String).length(120).required(),
        FieldDef::new("StageName", Picklist)
            .picklist(
                &[
                    "Prospecting",
                    "Qualification",
                    "Negotiation/Review",
                    "Closed Won",
                    "Closed Lost",
                ],
                None,
            )
            .required(),
        FieldDef::new("CloseDate", Date).required(),
        FieldDef::new("Amount", Currency),
        FieldDef::new("Probability", Percent),
        FieldDef::new("Description", Textarea),
        FieldDef::new("AccountId", Reference).lookup("Account", "Account", true),
    ];
    let lead = vec![
        FieldDef::new("FirstName", String).length(40),
        FieldDef::new("LastName", String).length(80).required(),
        FieldDef::new("Name", String).length(121).computed(),
        FieldDef::new("Company", String).required(),
        FieldDef::new("Email", Email),
        FieldDef::new("Phone", Phone),
        FieldDef::new("Status", Picklist)
            .picklist(
                &[
                    "Open - Not Contacted",
                    "Working - Contacted",
                    "Closed - Converted",
                    "Closed - Not Converted",
                ],
                Some("Open - Not Contacted"),
            )
            .required(),
        FieldDef::new("LeadSource", Picklist)
            .picklist(&["Web", "Phone Inquiry", "Partner Referral", "Other"], None),
    ];
    let case = vec![
        FieldDef::new("CaseNumber", String).length(30).system(),
        FieldDef::new("Subject", String),
        FieldDef::new("Description", Textarea),
        FieldDef::new("Status", Picklist)
            .picklist(&["New", "Working", "Escalated", "Closed"], Some("New"))
            .required(),
        FieldDef::new("Priority", Picklist).picklist(&["High", "Medium", "Low"], Some("Medium")),
        FieldDef::new("Origin", Picklist).picklist(&["Phone", "Email", "Web"], None),
        FieldDef::new("AccountId", Reference).lookup("Account", "Account", true),
        FieldDef::new("ContactId", Reference).lookup("Contact", "Contact", true),
    ];
    let user = vec![
        FieldDef::new("Username", String).length(80).required(),
        FieldDef::new("LastName", String).length(80).required(),
        FieldDef::new("FirstName", String).length(40),
        FieldDef::new("Name", String).length(121).computed(),
        FieldDef::new("Email", Email).required(),
        FieldDef::new("Alias", String).length(8).required(),
        FieldDef::new("IsActive", Boolean),
    ];
    vec![
        ObjectDef::new("Account", "001", false, account),
        ObjectDef::new("Contact", "003", false, contact),
        ObjectDef::new("User", "005", false, user),
        ObjectDef::new("Opportunity", "006", false, opportunity),
        ObjectDef::new("Lead", "00Q", false, lead),
        ObjectDef::new("Case", "500", false, case),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::build(&[], &default_custom_fields()).unwrap()
    }

    #[test]
    fn names_resolve_case_insensitively_to_canonical_names() {
        let schema = schema();
        let contact = schema.object("contact").unwrap();
        assert_eq!(contact.name, "Contact");
        assert_eq!(contact.field("accountid").unwrap().name, "AccountId");
        assert_eq!(contact.relationship("account").unwrap().name, "AccountId");
        assert!(contact.field("External_Id__c").unwrap().external_id);
    }

    #[test]
    fn contact_writes_lock_the_parent_account() {
        let schema = schema();
        let locks: Vec<_> = schema
            .object("Contact")
            .unwrap()
            .locking_lookups()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(locks, ["AccountId"]);
        assert_eq!(
            schema.object("Account").unwrap().locking_lookups().count(),
            0
        );
    }

    #[test]
    fn required_fields_exclude_defaulted_and_system_fields() {
        let schema = schema();
        let lead = schema.object("Lead").unwrap();
        let required: Vec<_> = lead
            .fields
            .iter()
            .filter(|f| f.required_on_create())
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(required, ["LastName", "Company"]);
    }

    #[test]
    fn custom_objects_and_fields_are_validated() {
        let bad = CustomField {
            object: "Nope".into(),
            ..default_custom_fields().remove(0)
        };
        assert!(matches!(
            Schema::build(&[], &[bad]),
            Err(SchemaError::UnknownObject { .. })
        ));
        let invoice = CustomObject {
            name: "Invoice__c".into(),
            key_prefix: "a01".into(),
            fields: vec![CustomField {
                name: "Account__c".into(),
                field_type: FieldType::Reference,
                reference_to: Some("Account".into()),
                master_detail: true,
                ..default_custom_fields().remove(0)
            }],
        };
        let schema = Schema::build(&[invoice], &[]).unwrap();
        let field = schema
            .object("invoice__c")
            .unwrap()
            .relationship("Account__r")
            .unwrap();
        assert!(field.locks_parent);
        assert_eq!(schema.object_by_prefix("a01").unwrap().name, "Invoice__c");
    }
}
