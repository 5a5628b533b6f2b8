//! The life of a queued write, and the one place that decides each transition.
//!
//! | # | from | event | to |
//! |---|---|---|---|
//! | T1 | — | `enqueue`: the write is committed to the journal | `Pending` |
//! | T2 | `Pending` | a worker takes it into a batch (not before its backoff; never while a write to its key is in flight) | `InFlight` |
//! | T3 | `Pending` | a later write to the same key is taken into a batch (collapse on) | `Superseded` (row deleted; outcome names the later ticket) |
//! | T4 | `InFlight` | Salesforce saved the record (for a delete, also `ENTITY_IS_DELETED`: it is gone, e.g. a resend after a restart) | `Delivered` (row deleted; outcome carries the Salesforce id) |
//! | T5 | `InFlight` | the call failed: transport, 5xx, throttling, limits, reserve, auth, a garbled answer | `Pending`, after backoff |
//! | T6 | `InFlight` | a per-record error that is retryable (`UNABLE_TO_LOCK_ROW`, a rolled-back neighbour, no result) | `Pending`, after backoff |
//! | T7 | `InFlight` | a per-record error that is not retryable (`REQUIRED_FIELD_MISSING`, `DUPLICATE_VALUE`, ...) | `Dead` (dead-letter table, Salesforce's code and message) |
//! | T8 | `InFlight` | Salesforce refused the whole call as invalid (4xx), batch of several; or failed the bulk job holding it | `Pending`, solo: each is sent alone |
//! | T9 | `InFlight` | Salesforce refused the whole call as invalid, write sent alone | `Dead` |
//! | T10 | `InFlight` | the journal is opened again (the process died mid-send) | `Pending` (sent again: at least once); a bulk run's writes stay `InFlight` and the run is resumed |
//! | T11 | `Dead` | `replay` (optionally with a fixed record) | row deleted; a new `Pending` write with a new ticket |
//! | T12 | `Dead` | `discard` | row deleted |
//!
//! `Pending`, `InFlight` and `Dead` are journal rows; `Delivered` and `Superseded` are final
//! and leave only their outcome event. Nothing moves a write from `Pending`/`InFlight` to
//! anything but these rows, so an accepted write is never dropped: it is delivered, replaced
//! by a later write to its key, or parked as a dead letter until someone replays or discards it.
//!
//! Rejected alternative: dead-lettering a write after N failed calls. A brownout or a spent
//! daily allocation says nothing about the record; parking it would turn an outage into
//! manual work. Only Salesforce's verdict on the record itself (T7, T9) ends in `Dead`.

use super::item::WriteOp;
use super::outcome::WriteError;
use crate::error::{Error, ErrorKind};
use crate::rest::RecordError;
use crate::retry::record_error;

/// A journal row's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Accepted, waiting to be sent (or sent again).
    Pending,
    /// In a call that has not answered yet.
    InFlight,
    /// Refused by Salesforce; in the dead-letter table.
    Dead,
}

impl ItemState {
    /// The journal's spelling.
    pub fn name(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::InFlight => "in_flight",
            ItemState::Dead => "dead",
        }
    }
}

/// What a send decided for one in-flight write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// T4: saved.
    Delivered {
        /// The Salesforce id.
        id: Option<String>,
        /// For upserts and inserts: whether a record was created.
        created: Option<bool>,
    },
    /// T5 / T6: back to `Pending` after backoff; the code says why.
    Retry(String),
    /// T8: back to `Pending`, to be sent alone.
    Solo,
    /// T7 / T9: a dead letter.
    Dead(WriteError),
}

/// Code Salesforce gives a delete of a record already in the recycle bin.
const ALREADY_DELETED: &str = "ENTITY_IS_DELETED";

/// Code Salesforce gives the untouched records of a rolled-back all-or-none call.
const ROLLED_BACK: &str = "ALL_OR_NONE_OPERATION_ROLLED_BACK";

/// T4, T6 or T7 for one record's result.
pub fn settle_record(
    op: &WriteOp,
    id: Option<String>,
    success: bool,
    created: Option<bool>,
    errors: &[RecordError],
) -> Settle {
    if success {
        return Settle::Delivered { id, created };
    }
    let Some(first) = errors.first() else {
        return Settle::Retry("NO_ERROR_REPORTED".into());
    };
    if *op == WriteOp::Delete && first.status_code == ALREADY_DELETED {
        // The record is gone, which is what the delete asked for (e.g. a resend after a restart).
        return Settle::Delivered { id, created: None };
    }
    let retryable = first.status_code == ROLLED_BACK
        || record_error(&first.status_code, &first.message, first.fields.clone(), 0).is_retryable();
    if retryable {
        Settle::Retry(first.status_code.clone())
    } else {
        Settle::Dead(first.into())
    }
}

/// Codes the bulk engine gives rows Salesforce said nothing about (no verdict on the record).
const BULK_NO_VERDICT: [&str; 3] = ["RESULT_MISSING", "BULK_JOB_ABORTED", "INVALID_RESPONSE"];
/// Code the bulk engine gives the rows of a job Salesforce failed as a whole.
const BULK_JOB_FAILED: &str = "BULK_JOB_FAILED";

/// T4, T6, T7 or T8 for one row of a bulk job: rows of a failed job are sent alone (through
/// collections, where each gets its own verdict); rows without a verdict are retried.
pub fn settle_bulk_row(
    op: &WriteOp,
    id: Option<String>,
    created: Option<bool>,
    error: Option<&WriteError>,
) -> Settle {
    match error {
        None => Settle::Delivered { id, created },
        Some(e) if e.code == BULK_JOB_FAILED => Settle::Solo,
        Some(e) if BULK_NO_VERDICT.contains(&e.code.as_str()) => Settle::Retry(e.code.clone()),
        Some(e) => {
            let record = RecordError {
                status_code: e.code.clone(),
                message: e.message.clone(),
                fields: e.fields.clone(),
            };
            settle_record(op, None, false, None, &[record])
        }
    }
}

/// T5, T8 or T9 for a call that failed as a whole (after the pipeline's own retries).
pub fn settle_call(error: &Error, alone: bool) -> Settle {
    match (is_refusal(error), alone) {
        (false, _) => Settle::Retry(error.code().to_owned()),
        (true, false) => Settle::Solo,
        (true, true) => Settle::Dead(WriteError {
            code: error.code().to_owned(),
            message: error.message().to_owned(),
            fields: error.fields().to_vec(),
        }),
    }
}

/// Whether Salesforce refused the call itself as invalid (a 4xx about the request: its
/// records, object or field), as opposed to an outage, a limit or a session problem, which
/// say nothing about the writes.
pub fn is_refusal(error: &Error) -> bool {
    error.status().is_some_and(|s| (400..500).contains(&s))
        && matches!(
            error.kind(),
            ErrorKind::InvalidInput | ErrorKind::NotFound | ErrorKind::Salesforce
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str) -> RecordError {
        RecordError {
            status_code: code.into(),
            message: format!("{code} happened"),
            fields: vec!["Name".into()],
        }
    }

    #[test]
    fn t4_a_saved_record_is_delivered_with_its_id() {
        let s = settle_record(&WriteOp::Insert, Some("001A".into()), true, Some(true), &[]);
        assert_eq!(
            s,
            Settle::Delivered {
                id: Some("001A".into()),
                created: Some(true)
            }
        );
    }

    #[test]
    fn t4_a_delete_of_a_record_already_gone_is_delivered_other_operations_dead_letter() {
        let gone = err(ALREADY_DELETED);
        let s = settle_record(
            &WriteOp::Delete,
            Some("001A".into()),
            false,
            None,
            std::slice::from_ref(&gone),
        );
        assert_eq!(
            s,
            Settle::Delivered {
                id: Some("001A".into()),
                created: None
            }
        );
        let s = settle_record(
            &WriteOp::Update,
            None,
            false,
            None,
            std::slice::from_ref(&gone),
        );
        assert_eq!(s, Settle::Dead((&gone).into()));
    }

    #[test]
    fn t6_lock_errors_and_rolled_back_neighbours_are_retried() {
        for code in ["UNABLE_TO_LOCK_ROW", ROLLED_BACK] {
            assert_eq!(
                settle_record(&WriteOp::Update, None, false, None, &[err(code)]),
                Settle::Retry(code.into())
            );
        }
        assert!(matches!(
            settle_record(&WriteOp::Update, None, false, None, &[]),
            Settle::Retry(_)
        ));
    }

    #[test]
    fn t7_record_errors_become_dead_letters_with_salesforces_words() {
        for code in [
            "REQUIRED_FIELD_MISSING",
            "DUPLICATE_VALUE",
            "INVALID_FIELD",
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        ] {
            assert_eq!(
                settle_record(&WriteOp::Update, None, false, None, &[err(code)]),
                Settle::Dead((&err(code)).into())
            );
        }
    }

    #[test]
    fn bulk_rows_without_a_verdict_retry_and_rows_of_a_failed_job_go_alone() {
        let e = |code: &str| WriteError {
            code: code.into(),
            message: "m".into(),
            fields: vec![],
        };
        assert_eq!(
            settle_bulk_row(&WriteOp::Insert, None, None, Some(&e("RESULT_MISSING"))),
            Settle::Retry("RESULT_MISSING".into())
        );
        assert_eq!(
            settle_bulk_row(&WriteOp::Insert, None, None, Some(&e("BULK_JOB_FAILED"))),
            Settle::Solo
        );
        assert_eq!(
            settle_bulk_row(&WriteOp::Insert, None, None, Some(&e("UNABLE_TO_LOCK_ROW"))),
            Settle::Retry("UNABLE_TO_LOCK_ROW".into())
        );
        assert_eq!(
            settle_bulk_row(&WriteOp::Insert, None, None, Some(&e("DUPLICATE_VALUE"))),
            Settle::Dead(e("DUPLICATE_VALUE"))
        );
        assert!(matches!(
            settle_bulk_row(&WriteOp::Insert, Some("001".into()), Some(false), None),
            Settle::Delivered { .. }
        ));
    }

    #[test]
    fn t5_failed_calls_go_back_to_pending_whatever_the_cause() {
        let errors = [
            Error::new(ErrorKind::Server, "SERVER_UNAVAILABLE", "503").with_status(503),
            Error::network("reset"),
            Error::timeout("slow"),
            Error::limit_reserve_reached("reserve"),
            Error::request_limit_exceeded("TotalRequests Limit exceeded.").with_status(403),
            Error::auth("INVALID_SESSION_ID", "expired").with_status(401),
        ];
        for e in &errors {
            assert_eq!(
                settle_call(e, false),
                Settle::Retry(e.code().to_owned()),
                "{e}"
            );
            assert_eq!(
                settle_call(e, true),
                Settle::Retry(e.code().to_owned()),
                "{e}"
            );
        }
    }

    #[test]
    fn t8_t9_a_refused_call_is_split_then_dead_lettered_alone() {
        let e =
            Error::new(ErrorKind::InvalidInput, "JSON_PARSER_ERROR", "bad body").with_status(400);
        assert_eq!(settle_call(&e, false), Settle::Solo);
        let Settle::Dead(letter) = settle_call(&e, true) else {
            panic!("dead")
        };
        assert_eq!(
            (letter.code.as_str(), letter.message.as_str()),
            ("JSON_PARSER_ERROR", "bad body")
        );
    }
}
