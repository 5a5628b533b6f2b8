//! What happened to each uploaded row, and the three result files built from it
//! (`successfulResults/`, `failedResults/`, `unprocessedrecords/`, wire doc 3.5).
//!
//! A job keeps one small [`Outcome`] per row, in upload order, and keeps the uploaded bytes;
//! a result file re-reads the uploads and echoes each row's original cells next to its
//! outcome. Keeping outcomes instead of rendered text is what lets a million-row job's
//! results cost ~40 bytes a row, and echoing the cells exactly as uploaded is what lets a
//! client map results back to its input rows by content. Files are streamed in pieces of
//! [`ROWS_PER_PIECE`] rows rather than rendered whole.

use super::csv_io::{end_record, finish, Dialect};
use super::ingest::IngestJob;
use crate::values::FieldError;
use bytes::Bytes;
use csv::ByteRecord;
use std::sync::Arc;

/// An 18-character record id, stored inline.
pub type RecordId = [u8; 18];

/// The id bytes of an 18-character id string.
pub fn record_id(id: &str) -> Option<RecordId> {
    id.as_bytes().try_into().ok()
}

fn id_text(id: &RecordId) -> &str {
    std::str::from_utf8(id).unwrap_or_default()
}

/// The fate of one uploaded row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Outcome {
    /// Not processed (job aborted or failed first, or batch over the daily allocation).
    #[default]
    Unprocessed,
    Success {
        id: RecordId,
        created: bool,
    },
    /// `error` is already in `sf__Error` form (`CODE:message:fields --`).
    Failed {
        id: Option<RecordId>,
        error: Box<str>,
    },
}

impl Outcome {
    /// A failed row for `error`, with the row's record id when it is known.
    pub fn failed(id: Option<RecordId>, error: &FieldError) -> Self {
        Outcome::Failed {
            id,
            error: sf_error(error).into_boxed_str(),
        }
    }
}

/// `sf__Error` text: `CODE:message:fields --`, with `--` alone when no field is involved.
pub fn sf_error(error: &FieldError) -> String {
    let fields = if error.fields.is_empty() {
        "--".to_string()
    } else {
        format!("{} --", error.fields.join(", "))
    };
    format!("{}:{}:{}", error.code, error.message, fields)
}

/// Which of the three files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    Successful,
    Failed,
    Unprocessed,
}

impl ResultKind {
    fn sf_columns(self) -> &'static [&'static str] {
        match self {
            ResultKind::Successful => &["sf__Id", "sf__Created"],
            ResultKind::Failed => &["sf__Id", "sf__Error"],
            ResultKind::Unprocessed => &[],
        }
    }

    /// The `sf__` cells this file shows for `outcome`, or `None` when the row is not in it.
    fn cells(self, outcome: &Outcome) -> Option<[&str; 2]> {
        match (self, outcome) {
            (ResultKind::Successful, Outcome::Success { id, created }) => {
                Some([id_text(id), if *created { "true" } else { "false" }])
            }
            (ResultKind::Failed, Outcome::Failed { id, error }) => {
                Some([id.as_ref().map(id_text).unwrap_or_default(), error])
            }
            (ResultKind::Unprocessed, Outcome::Unprocessed) => Some(["", ""]),
            _ => None,
        }
    }
}

/// Rows rendered per streamed piece.
pub const ROWS_PER_PIECE: usize = 2_000;

/// Where a result file's rendering stands.
struct Cursor {
    upload: usize,
    /// Byte offset inside the upload; 0 = its header is still to be read.
    offset: usize,
    /// Index of the next row across all uploads.
    row: usize,
    header_written: bool,
}

/// The result file as a stream of CSV pieces.
pub fn stream(
    job: Arc<IngestJob>,
    kind: ResultKind,
) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let cursor = Cursor {
        upload: 0,
        offset: 0,
        row: 0,
        header_written: false,
    };
    let pieces = futures::stream::unfold((job, cursor), move |(job, mut cursor)| async move {
        let piece = render_piece(&job, kind, &mut cursor)?;
        Some((Ok(Bytes::from(piece)), (job, cursor)))
    });
    // Body layers may poll once more after the end.
    futures::StreamExt::fuse(pieces)
}

/// Renders the next piece; `None` when the file is complete.
fn render_piece(job: &IngestJob, kind: ResultKind, cursor: &mut Cursor) -> Option<Vec<u8>> {
    let dialect = job.job.spec.dialect;
    let Some(data) = job.data.upload(cursor.upload) else {
        // A job with no uploads still gets a (header-less) empty file once.
        return (!cursor.header_written).then(|| {
            cursor.header_written = true;
            Vec::new()
        });
    };
    let mut out = Vec::new();
    if cursor.offset == 0 {
        let mut reader = dialect.reader(&data);
        let mut header = ByteRecord::new();
        let _ = reader.read_byte_record(&mut header);
        cursor.offset = reader.position().byte() as usize;
        if !cursor.header_written {
            out = dialect.results_header(kind.sf_columns(), &header);
            cursor.header_written = true;
        }
    }
    let finished = render_rows(job, kind, &dialect, &data, cursor, &mut out);
    if finished {
        cursor.upload += 1;
        cursor.offset = 0;
    }
    Some(out)
}

/// Renders up to [`ROWS_PER_PIECE`] rows of the current upload; true at its end.
fn render_rows(
    job: &IngestJob,
    kind: ResultKind,
    dialect: &Dialect,
    data: &[u8],
    cursor: &mut Cursor,
    out: &mut Vec<u8>,
) -> bool {
    let mut reader = dialect.reader(&data[cursor.offset..]);
    let mut writer = dialect.quoted_writer();
    let mut record = ByteRecord::new();
    let outcomes = job.data.outcomes.lock();
    let mut finished = false;
    for _ in 0..ROWS_PER_PIECE {
        match reader.read_byte_record(&mut record) {
            Ok(true) | Err(_) => {}
            Ok(false) => {
                finished = true;
                break;
            }
        }
        let outcome = outcomes.get(cursor.row).unwrap_or(&Outcome::Unprocessed);
        cursor.row += 1;
        let Some(sf_cells) = kind.cells(outcome) else {
            continue;
        };
        for cell in sf_cells.iter().take(kind.sf_columns().len()) {
            writer.write_field(cell).expect("writing to memory");
        }
        for cell in record.iter() {
            writer.write_field(cell).expect("writing to memory");
        }
        end_record(&mut writer);
    }
    drop(outcomes);
    cursor.offset += reader.position().byte() as usize;
    out.extend_from_slice(&finish(writer));
    finished
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sf_error_names_fields_or_says_none() {
        let missing = FieldError::new(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Name]",
            &["Name"],
        );
        assert_eq!(
            sf_error(&missing),
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
        );
        let lock = FieldError::new(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records: 001",
            &[],
        );
        assert_eq!(sf_error(&lock), "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: 001:--");
    }

    #[test]
    fn an_outcome_stays_small_enough_for_million_row_jobs() {
        assert!(
            std::mem::size_of::<Outcome>() <= 40,
            "{}",
            std::mem::size_of::<Outcome>()
        );
    }

    #[test]
    fn each_file_shows_only_its_outcomes() {
        let id = record_id("0015g00000000001AA").unwrap();
        let ok = Outcome::Success { id, created: true };
        let bad = Outcome::Failed {
            id: None,
            error: "X:y:--".into(),
        };
        assert_eq!(
            ResultKind::Successful.cells(&ok),
            Some(["0015g00000000001AA", "true"])
        );
        assert_eq!(ResultKind::Successful.cells(&bad), None);
        assert_eq!(ResultKind::Failed.cells(&bad), Some(["", "X:y:--"]));
        assert_eq!(
            ResultKind::Unprocessed
                .cells(&Outcome::Unprocessed)
                .map(|_| ()),
            Some(())
        );
        assert_eq!(ResultKind::Unprocessed.cells(&ok), None);
    }
}
