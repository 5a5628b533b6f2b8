//! SOQL over real HTTP: what a REST client sees for parent relationships, filters with
//! escapes and date literals, ordering, and Salesforce's positional error messages.

mod rest_support;

use rest_support::{Org, VERSION};
use serde_json::{json, Value};

async fn query(org: &Org, soql: &str) -> rest_support::Answer {
    org.send(
        org.request(reqwest::Method::GET, "/query")
            .query(&[("q", soql)]),
    )
    .await
}

fn names(records: &Value, field: &str) -> Vec<String> {
    records["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r[field].as_str().unwrap_or("null").to_string())
        .collect()
}

#[tokio::test]
async fn parent_relationships_nest_as_records_with_attributes_or_null() {
    let org = Org::start().await;
    let acme = org.seed("Account", json!({"Name": "Acme", "Industry": "Energy"}));
    org.seed("Contact", json!({"LastName": "Smith", "AccountId": acme}));
    org.seed("Contact", json!({"LastName": "Orphan"}));
    let answer = query(
        &org,
        "select lastname, account.name, account.industry from contact order by lastname desc",
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["totalSize"], 2);
    let records = answer.body["records"].as_array().unwrap();
    assert_eq!(records[0]["LastName"], "Smith");
    assert_eq!(
        records[0]["Account"],
        json!({"attributes": {"type": "Account", "url": format!("/services/data/v{VERSION}/sobjects/Account/{acme}")}, "Name": "Acme", "Industry": "Energy"})
    );
    assert_eq!(records[1]["Account"], Value::Null);
    let keys: Vec<_> = records[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["attributes", "LastName", "Account"]);
}

#[tokio::test]
async fn filters_with_escapes_like_in_and_dates_travel_through_the_url() {
    let org = Org::start().await;
    org.seed("Account", json!({"Name": "O'Brien & Sons"}));
    org.seed("Account", json!({"Name": "100% Cotton"}));
    org.seed("Account", json!({"Name": "Plain"}));
    let escaped = query(
        &org,
        r"SELECT Name FROM Account WHERE Name = 'o\'brien & sons'",
    )
    .await;
    assert_eq!(names(&escaped.body, "Name"), ["O'Brien & Sons"]);
    let like = query(
        &org,
        r"SELECT Name FROM Account WHERE Name LIKE '%\%%' OR Name IN ('plain')",
    )
    .await;
    assert_eq!(names(&like.body, "Name"), ["100% Cotton", "Plain"]);
    let recent = query(&org, "SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:1 AND CreatedDate < 4000-01-01T00:00:00Z ORDER BY Name LIMIT 2").await;
    assert_eq!(
        names(&recent.body, "Name"),
        ["100% Cotton", "O'Brien & Sons"]
    );
}

#[tokio::test]
async fn errors_carry_the_fragment_caret_and_position() {
    let org = Org::start().await;
    let typo = query(&org, "SELECT Id FORM Account").await;
    assert_eq!(typo.status, 400);
    assert_eq!(typo.body[0]["errorCode"], "MALFORMED_QUERY");
    assert_eq!(
        typo.body[0]["message"],
        "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    );
    let relationship = query(&org, "SELECT Acount.Name FROM Contact").await;
    assert_eq!(relationship.body[0]["errorCode"], "INVALID_FIELD");
    assert!(relationship.body[0]["message"].as_str().unwrap().contains(
        "ERROR at Row:1:Column:8\nDidn't understand relationship 'Acount' in field path."
    ));
    let offset = query(&org, "SELECT Id FROM Account OFFSET 2001").await;
    assert_eq!(
        (offset.status, offset.error_code()),
        (400, "NUMBER_OUTSIDE_VALID_RANGE")
    );
}

#[tokio::test]
async fn subqueries_return_child_records_or_null() {
    let org = Org::start().await;
    let acme = org.seed("Account", json!({"Name": "Acme"}));
    org.seed("Account", json!({"Name": "Lonely"}));
    for last in ["Zed", "Amy"] {
        org.seed("Contact", json!({"LastName": last, "AccountId": acme}));
    }
    let soql =
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name";
    let answer = query(&org, soql).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let contacts = &answer.body["records"][0]["Contacts"];
    assert_eq!(
        (contacts["totalSize"].clone(), contacts["done"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(names(contacts, "LastName"), ["Amy", "Zed"]);
    assert_eq!(answer.body["records"][1]["Contacts"], Value::Null);
}

#[tokio::test]
async fn aggregate_queries_answer_aggregate_results() {
    let org = Org::start().await;
    for (name, industry) in [("A", "Energy"), ("B", "Energy"), ("C", "Retail")] {
        org.seed(
            "Account",
            json!({"Name": name, "Industry": industry, "NumberOfEmployees": 10}),
        );
    }
    let soql = "SELECT Industry, COUNT(Id) n, SUM(NumberOfEmployees) FROM Account GROUP BY Industry ORDER BY COUNT(Id) DESC";
    let answer = query(&org, soql).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["totalSize"], 2);
    assert_eq!(
        answer.body["records"][0],
        json!({"attributes": {"type": "AggregateResult"}, "Industry": "Energy", "n": 2, "expr0": 20.0})
    );
    let bulk = org
        .post("/jobs/query", json!({"operation": "query", "query": soql}))
        .await;
    assert_eq!(bulk.status, 400, "{:?}", bulk.body);
}
