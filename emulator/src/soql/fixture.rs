//! Test data shared by the SOQL unit tests: a small org with users, accounts (one with a
//! parent account), contacts with and without accounts, and opportunities with dates.
//! Account has a custom datetime field `Last_Seen__c` so datetime literals can be tested
//! against values the test controls (system timestamps are set by the store).

use crate::schema::{default_custom_fields, CustomField, FieldType, Schema};
use crate::store::{Store, WriteMode};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::sync::Arc;

/// The day relative date literals are anchored on in these tests (a Wednesday).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 15).expect("valid date")
}

pub fn schema() -> Schema {
    let mut fields = default_custom_fields();
    fields.push(CustomField {
        object: "Account".into(),
        name: "Last_Seen__c".into(),
        field_type: FieldType::Datetime,
        unique: false,
        external_id: false,
        ..default_custom_fields().remove(0)
    });
    Schema::build(&[], &fields).expect("fixture schema")
}

/// Inserts `body` into `object` and returns the new id.
pub fn insert(store: &Store, object: &str, body: Value) -> String {
    let def = store
        .schema()
        .object(object)
        .expect("fixture object")
        .clone();
    let changes = store
        .changes_from_json(
            &def,
            body.as_object().expect("object body"),
            WriteMode::Insert,
        )
        .expect("fixture values");
    store.insert(&def, changes).expect("fixture insert")
}

/// Ids of the fixture records, by role.
pub struct Org {
    pub store: Store,
    pub ada: String,
    pub acme: String,
    pub globex: String,
    pub obrien: String,
    pub initech: String,
    pub smith: String,
    pub jones: String,
    pub brown: String,
}

pub fn org() -> Org {
    let store = Store::new(Arc::new(schema()), "5g", "005000000000001AAA");
    let user = |last: &str, email: &str| {
        insert(
            &store,
            "User",
            json!({"LastName": last, "FirstName": "Test", "Username": email, "Email": email, "Alias": "t"}),
        )
    };
    let ada = user("Lovelace", "ada@example.com");
    let grace = user("Hopper", "grace@example.com");
    let account = |body: Value| insert(&store, "Account", body);
    let acme = account(
        json!({"Name": "Acme", "Industry": "Energy", "NumberOfEmployees": 100, "AnnualRevenue": 5000000.5, "OwnerId": ada, "Last_Seen__c": "2024-05-15T10:00:00Z"}),
    );
    let globex = account(
        json!({"Name": "Globex", "Industry": "Retail", "OwnerId": grace, "ParentId": acme, "Last_Seen__c": "2024-05-14T23:59:59.999Z"}),
    );
    let obrien = account(
        json!({"Name": "O'Brien & Sons", "NumberOfEmployees": 5, "OwnerId": ada, "Description": "50% off\\sale"}),
    );
    let initech = account(
        json!({"Name": "initech", "Industry": "Technology", "NumberOfEmployees": 50, "OwnerId": grace, "Last_Seen__c": "2024-05-16T00:00:00Z"}),
    );
    let contact = |body: Value| insert(&store, "Contact", body);
    let smith = contact(
        json!({"LastName": "Smith", "FirstName": "Ann", "AccountId": acme, "Email": "ann@acme.example", "Birthdate": "1990-05-15"}),
    );
    let jones = contact(json!({"LastName": "Jones", "AccountId": globex}));
    let brown = contact(json!({"LastName": "Brown", "FirstName": "Bob"}));
    for (name, close, amount) in [
        ("Big deal", "2024-05-15", 100.0),
        ("May deal", "2024-05-01", 50.0),
        ("April deal", "2024-04-30", 25.0),
        ("Old deal", "2023-12-31", 10.0),
    ] {
        insert(
            &store,
            "Opportunity",
            json!({"Name": name, "StageName": "Prospecting", "CloseDate": close, "Amount": amount, "AccountId": acme}),
        );
    }
    Org {
        store,
        ada,
        acme,
        globex,
        obrien,
        initech,
        smith,
        jones,
        brown,
    }
}
