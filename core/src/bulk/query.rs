//! Bulk API 2.0 query and queryAll: results as a record stream or a CSV file, in memory
//! bounded by one page whatever the result size.
//!
//! The job is created, polled (the ingest backoff: short first, up to a cap, no give-up) until
//! `JobComplete`, then read page by page: `GET …/results?maxRecords=N[&locator=L]`, the next
//! locator in the `Sforce-Locator` header until it is the literal `null`. Only one page is
//! held at a time: jsforce and simple-salesforce builds that read whole results into memory
//! are what this module replaces.
//!
//! Records from the stream have one key per column; relationship columns (`Account.Name`)
//! become nested objects like REST's, empty values become `null`, and every other value is a
//! string (Bulk CSV carries no types).

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt as _;
use serde_json::{Map, Value};

use crate::bulk::api::Bulk;
use crate::bulk::codes;
use crate::bulk::encode::Record;
use crate::bulk::ingest::PollBackoff;
use crate::bulk::plan::io_error;
use crate::bulk::wire::{JobInfo, Wire};
use crate::error::{Error, ErrorKind};

/// A query being described. Finish with [`QueryBuilder::stream`] or [`QueryBuilder::to_csv`].
#[derive(Debug, Clone)]
#[must_use]
pub struct QueryBuilder {
    bulk: Bulk,
    soql: String,
    all: bool,
    page_size: u64,
    poll_initial: Duration,
    poll_max: Duration,
}

/// What [`QueryBuilder::to_csv`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueryResult {
    /// The query job.
    pub job_id: String,
    /// Data rows written.
    pub rows: u64,
    /// Result pages read.
    pub pages: u64,
    /// Requests made.
    pub api_calls: u64,
}

impl Bulk {
    /// A Bulk API 2.0 query.
    pub fn query(&self, soql: &str) -> QueryBuilder {
        QueryBuilder {
            bulk: self.clone(),
            soql: soql.to_owned(),
            all: false,
            page_size: 50_000,
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
        }
    }
}

impl QueryBuilder {
    /// `queryAll`: include deleted and archived rows.
    pub fn query_all(mut self) -> Self {
        self.all = true;
        self
    }

    /// Rows per page (`maxRecords`), which bounds memory. Default: 50 000.
    pub fn page_size(mut self, rows: u64) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// Poll delays: first, and largest. Default: 500 ms, 10 s.
    pub fn poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.poll_initial = initial;
        self.poll_max = max.max(initial);
        self
    }

    async fn wait(&self, wire: &Wire) -> Result<JobInfo, Error> {
        if self.soql.trim().is_empty() {
            return Err(Error::invalid_input("the query is empty"));
        }
        let created = wire.create_query(&self.soql, self.all).await?;
        let mut delays = PollBackoff::new(self.poll_initial, self.poll_max);
        loop {
            let info = wire.job_info("query", &created.id).await?;
            match info.state.as_str() {
                "JobComplete" => return Ok(info),
                "Failed" | "Aborted" => {
                    let message = info
                        .error_message
                        .unwrap_or_else(|| format!("the query job ended {}", info.state));
                    return Err(Error::new(
                        ErrorKind::Salesforce,
                        codes::BULK_JOB_FAILED,
                        message,
                    ));
                }
                _ => tokio::time::sleep(delays.next().unwrap_or(self.poll_max)).await,
            }
        }
    }

    /// Writes every result row to `path` as CSV (one header), page by page.
    pub async fn to_csv(self, path: impl AsRef<Path>) -> Result<QueryResult, Error> {
        let path = path.as_ref();
        let wire = Wire::new(self.bulk.client.clone());
        let job = self.wait(&wire).await?;
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| io_error("cannot create", path, e))?,
        );
        let (mut locator, mut rows, mut pages) = (None, 0u64, 0u64);
        loop {
            let (body, next) = wire
                .query_page(&job.id, locator.as_deref(), self.page_size)
                .await?;
            let data = if pages == 0 {
                &body[..]
            } else {
                skip_header(&body)
            };
            out.write_all(data)
                .map_err(|e| io_error("cannot write", path, e))?;
            rows += count_rows(&body)?;
            pages += 1;
            match next {
                Some(l) => locator = Some(l),
                None => break,
            }
        }
        out.flush().map_err(|e| io_error("cannot write", path, e))?;
        Ok(QueryResult {
            job_id: job.id,
            rows,
            pages,
            api_calls: wire.calls(),
        })
    }

    /// The result rows as records, fetched one page at a time as the stream is read.
    pub fn stream(self) -> BoxStream<'static, Result<Record, Error>> {
        let state = PageState {
            query: self,
            wire: None,
            job: None,
            locator: None,
            page: None,
            done: false,
        };
        futures::stream::try_unfold(state, |mut state| async move {
            loop {
                if let Some(record) = state.page.as_mut().and_then(Page::next).transpose()? {
                    return Ok(Some((record, state)));
                }
                if state.done {
                    return Ok(None);
                }
                state.fetch().await?;
            }
        })
        .boxed()
    }
}

struct PageState {
    query: QueryBuilder,
    wire: Option<Wire>,
    job: Option<String>,
    locator: Option<String>,
    page: Option<Page>,
    done: bool,
}

/// One page's CSV, held raw and turned into records one at a time as the stream is read, so
/// a page costs its bytes, not a map per row.
struct Page {
    header: Vec<Vec<String>>,
    rows: csv::StringRecordsIntoIter<std::io::Cursor<bytes::Bytes>>,
}

impl Page {
    fn new(body: bytes::Bytes) -> Result<Page, Error> {
        let mut reader = csv::Reader::from_reader(std::io::Cursor::new(body));
        let header = split_header(reader.headers().map_err(bad_page)?);
        Ok(Page {
            header,
            rows: reader.into_records(),
        })
    }

    fn next(&mut self) -> Option<Result<Record, Error>> {
        let record = self.rows.next()?;
        Some(
            record
                .map_err(bad_page)
                .map(|r| to_record(&self.header, &r)),
        )
    }
}

impl PageState {
    async fn fetch(&mut self) -> Result<(), Error> {
        let wire = self
            .wire
            .get_or_insert_with(|| Wire::new(self.query.bulk.client.clone()));
        let job = match &self.job {
            Some(job) => job.clone(),
            None => {
                let info = self.query.wait(wire).await?;
                self.job = Some(info.id.clone());
                info.id
            }
        };
        let (body, next) = wire
            .query_page(&job, self.locator.as_deref(), self.query.page_size)
            .await?;
        self.page = Some(Page::new(body)?);
        self.done = next.is_none();
        self.locator = next;
        Ok(())
    }
}

fn skip_header(body: &[u8]) -> &[u8] {
    body.iter()
        .position(|&b| b == b'\n')
        .map_or(&[][..], |i| &body[i + 1..])
}

fn bad_page(e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Salesforce,
        codes::INVALID_RESPONSE,
        format!("unreadable query results: {e}"),
    )
}

fn count_rows(body: &[u8]) -> Result<u64, Error> {
    let mut reader = csv::Reader::from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut n = 0;
    while reader.read_byte_record(&mut record).map_err(bad_page)? {
        n += 1;
    }
    Ok(n)
}

fn split_header(header: &csv::StringRecord) -> Vec<Vec<String>> {
    header
        .iter()
        .map(|h| h.split('.').map(str::to_owned).collect())
        .collect()
}

/// One CSV row as a record: relationship columns nested, empty values `null`.
fn to_record(header: &[Vec<String>], row: &csv::StringRecord) -> Record {
    let mut record = Map::new();
    for (path, value) in header.iter().zip(row.iter()) {
        let value = if value.is_empty() {
            Value::Null
        } else {
            Value::String(value.to_owned())
        };
        insert_path(&mut record, path, value);
    }
    record
}

/// One page of query CSV as records.
pub fn parse_page(body: &[u8]) -> Result<Vec<Record>, Error> {
    let mut page = Page::new(bytes::Bytes::copy_from_slice(body))?;
    std::iter::from_fn(|| page.next()).collect()
}

fn insert_path(map: &mut Record, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_become_records_with_nested_relationships_and_nulls() {
        let body = b"\"Id\",\"Name\",\"Account.Name\",\"Account.Owner.Alias\"\n\"003A\",\"Ann\",\"Acme\",\"\"\n\"003B\",\"\",\"Globex\",\"bo\"\n";
        let records = parse_page(body).unwrap();
        assert_eq!(
            Value::Object(records[0].clone()),
            json!({"Id": "003A", "Name": "Ann", "Account": {"Name": "Acme", "Owner": {"Alias": null}}})
        );
        assert_eq!(records[1]["Name"], Value::Null);
        assert_eq!(count_rows(body).unwrap(), 2);
    }

    #[test]
    fn later_pages_lose_their_header_once() {
        assert_eq!(skip_header(b"\"Id\"\n\"1\"\n\"2\"\n"), b"\"1\"\n\"2\"\n");
        assert_eq!(skip_header(b"\"Id\"\n"), b"");
        assert_eq!(skip_header(b""), b"");
    }
}
