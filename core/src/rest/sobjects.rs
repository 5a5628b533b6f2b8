//! Single-record operations: create, get, update, delete, and upsert by external id.
//!
//! Status codes are Salesforce's: create answers 201 with `{"id","success","errors"}`,
//! update and delete 204, upsert 201 (created) or 200 (updated, v46.0+) or 204 (updated,
//! v45.0 and earlier, no body), and 300 when the external id matches several records,
//! which we turn into a `MULTIPLE_CHOICES` error listing the matches instead of guessing.
//! Create is not idempotent (a replay after a lost response would duplicate the record),
//! so it is never retried once it may have reached the server; upsert by external id is.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::path;
use super::query::Record;
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::http::Response;
use crate::pipeline::Target;

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertResult {
    /// The record id (absent only for 204 answers of API v45.0 and earlier).
    pub id: Option<String>,
    /// Whether a record was inserted rather than updated.
    pub created: bool,
}

#[derive(Deserialize)]
struct SaveResponse {
    id: String,
    #[serde(default)]
    created: Option<bool>,
}

impl Client {
    /// Creates a record and returns its id.
    pub async fn create(&self, object: &str, record: &impl Serialize) -> Result<String, Error> {
        let target = Target::Versioned(format!("sobjects/{}", path::name(object)?));
        let request = self
            .request(Method::POST, target, "sobject.create", "create")
            .object(object)
            .json(record)?;
        let saved: SaveResponse = self.pipeline.execute(&request).await?.json()?;
        Ok(saved.id)
    }

    /// Reads a record by id; `fields` empty means every field.
    pub async fn get(&self, object: &str, id: &str, fields: &[&str]) -> Result<Record, Error> {
        let target = Target::Versioned(format!(
            "sobjects/{}/{}",
            path::name(object)?,
            path::record_id(id)?
        ));
        let mut request = self
            .request(Method::GET, target, "sobject.get", "get")
            .object(object);
        if !fields.is_empty() {
            fields.iter().try_for_each(|f| path::name(f).map(drop))?;
            request = request.query("fields", fields.join(","));
        }
        self.pipeline.execute(&request).await?.json()
    }

    /// Updates the given fields of a record.
    pub async fn update(
        &self,
        object: &str,
        id: &str,
        fields: &impl Serialize,
    ) -> Result<(), Error> {
        let target = Target::Versioned(format!(
            "sobjects/{}/{}",
            path::name(object)?,
            path::record_id(id)?
        ));
        let request = self
            .request(Method::PATCH, target, "sobject.update", "update")
            .object(object)
            .idempotent(true)
            .json(fields)?;
        self.pipeline.execute(&request).await.map(drop)
    }

    /// Deletes a record.
    pub async fn delete(&self, object: &str, id: &str) -> Result<(), Error> {
        let target = Target::Versioned(format!(
            "sobjects/{}/{}",
            path::name(object)?,
            path::record_id(id)?
        ));
        let request = self
            .request(Method::DELETE, target, "sobject.delete", "delete")
            .object(object);
        self.pipeline.execute(&request).await.map(drop)
    }

    /// Inserts or updates the record whose `ext_field` equals `value`.
    pub async fn upsert(
        &self,
        object: &str,
        ext_field: &str,
        value: &str,
        record: &impl Serialize,
    ) -> Result<UpsertResult, Error> {
        let target = Target::Versioned(format!(
            "sobjects/{}/{}/{}",
            path::name(object)?,
            path::name(ext_field)?,
            path::value(value)?
        ));
        let request = self
            .request(Method::PATCH, target, "sobject.upsert", "upsert")
            .object(object)
            .idempotent(true)
            .json(record)?;
        upsert_result(self.pipeline.execute(&request).await?)
            .map_err(|e| e.with_context("upsert", Some(object)))
    }
}

fn upsert_result(response: Response) -> Result<UpsertResult, Error> {
    match response.status {
        204 => Ok(UpsertResult {
            id: None,
            created: false,
        }),
        300 => {
            let matches: Vec<String> = response.json().unwrap_or_default();
            Err(Error::new(
                ErrorKind::InvalidInput,
                "MULTIPLE_CHOICES",
                format!(
                    "the external id matches {} records: {}",
                    matches.len(),
                    matches.join(", ")
                ),
            )
            .with_status(300))
        }
        status => {
            let saved: SaveResponse = response.json()?;
            Ok(UpsertResult {
                id: Some(saved.id),
                created: saved.created.unwrap_or(status == 201),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: HeaderMap::new(),
            body: body.to_owned().into(),
        }
    }

    #[test]
    fn upsert_statuses_map_to_outcomes() {
        let created = upsert_result(response(
            201,
            r#"{"id":"001A","success":true,"errors":[],"created":true}"#,
        ))
        .unwrap();
        assert_eq!(
            created,
            UpsertResult {
                id: Some("001A".into()),
                created: true
            }
        );
        let updated = upsert_result(response(
            200,
            r#"{"id":"001A","success":true,"errors":[],"created":false}"#,
        ))
        .unwrap();
        assert!(!updated.created);
        assert_eq!(
            upsert_result(response(204, "")).unwrap(),
            UpsertResult {
                id: None,
                created: false
            }
        );
        let multi = upsert_result(response(300, r#"["/services/data/v62.0/sobjects/Account/001A","/services/data/v62.0/sobjects/Account/001B"]"#)).unwrap_err();
        assert_eq!(
            (multi.code(), multi.status()),
            ("MULTIPLE_CHOICES", Some(300))
        );
        assert!(multi.message().contains("2 records"));
    }
}
