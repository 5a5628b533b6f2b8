//! The queue's journal: every accepted write, as a row, in embedded SQLite (WAL).
//!
//! `enqueue` returns only after its row is committed, so an accepted write survives a killed
//! process (with the default `synchronous=NORMAL` the WAL holds it in the operating system's
//! cache; with `synchronous=FULL` it is fsynced and survives a power loss too). Each state
//! change of the table in `queue::state` is one committed transaction: taking a batch (T2,
//! T3), settling a batch's results (T4–T9), recovering after a restart (T10), replaying a
//! dead letter (T11). Delivered and superseded writes are deleted, so the table holds only
//! what still needs attention.
//!
//! The file is opened with `locking_mode=EXCLUSIVE`: a second process (or a second queue in
//! this one) opening the same journal is refused instead of sending the same writes twice.
//! The operating system drops the lock when a process dies, so a restarted process can open it.
//!
//! Tables are prefixed `queue_`; the bulk engine's journal is a separate file.
//! Rejected alternative: an append-only log file. Taking batches and settling them would mean
//! rewriting or compacting the log; SQLite gives indexed "what is pending for this group" and
//! atomic multi-row updates.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::config::SyncMode;
use super::item::{Item, NewWrite, WriteOp};
use super::outcome::{DeadLetter, Ticket, WriteError};
use super::state::{ItemState, Settle};
use crate::error::{Error, ErrorKind};
use crate::rest::Record;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_writes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  object TEXT NOT NULL,
  op TEXT NOT NULL,
  ext_field TEXT NOT NULL DEFAULT '',
  key TEXT,
  record TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  solo INTEGER NOT NULL DEFAULT 0,
  not_before_ms INTEGER NOT NULL DEFAULT 0,
  covers INTEGER,
  bulk_run TEXT,
  bulk_row INTEGER,
  enqueued_ms INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS queue_writes_by_state ON queue_writes (state, object, op, ext_field, seq);
CREATE INDEX IF NOT EXISTS queue_writes_by_key ON queue_writes (object, key, seq);
";

const COLUMNS: &str = "seq, object, op, ext_field, key, record, attempts, solo, enqueued_ms, error";

/// The writes of one (object, operation, external id field): what is sent together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    /// The sObject.
    pub object: String,
    /// The operation (carries the external id field for upserts).
    pub op: WriteOp,
}

/// A group's pending writes, as the dispatcher sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStat {
    /// Which group.
    pub key: GroupKey,
    /// Pending writes whose backoff (if any) has passed.
    pub ready: u64,
    /// When the oldest ready write was accepted (Unix ms).
    pub oldest_ready_ms: Option<u64>,
    /// The earliest backoff end among the others.
    pub next_not_before_ms: Option<u64>,
}

/// What a restart found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Writes without an outcome (pending, including those that were in flight).
    pub unresolved: u64,
    /// Of those, writes that were in flight when the last process stopped.
    pub resumed_in_flight: u64,
    /// Dead letters.
    pub dead: u64,
    /// Bulk runs that were in flight: their writes stay in flight until the run is resumed.
    pub bulk_runs: Vec<String>,
}

/// The journal file. Methods block; callers run them off the async threads.
#[derive(Debug)]
pub struct Journal {
    conn: Mutex<Connection>,
}

fn db_error(e: rusqlite::Error) -> Error {
    if matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    ) {
        return Error::new(
            ErrorKind::Config,
            "QUEUE_JOURNAL_IN_USE",
            "the queue journal is open in another queue or process",
        );
    }
    Error::new(
        ErrorKind::Config,
        "QUEUE_JOURNAL",
        format!("queue journal: {e}"),
    )
}

fn json_error(e: serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Config,
        "QUEUE_JOURNAL",
        format!("queue journal holds an unreadable row: {e}"),
    )
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and takes its exclusive lock.
    pub fn open(path: &Path, sync: SyncMode) -> Result<Journal, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::config(
                    "queue_path",
                    format!("cannot create {}: {e}", dir.display()),
                )
            })?;
        }
        let conn = Connection::open(path).map_err(db_error)?;
        // The lock below is exclusive: a holder keeps it until it closes, so waiting is useless.
        conn.busy_timeout(std::time::Duration::ZERO)
            .map_err(db_error)?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", sync.pragma())
            .map_err(db_error)?;
        // Takes the exclusive lock now (it is held until the connection closes).
        conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
            .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(Journal {
            conn: Mutex::new(conn),
        })
    }

    /// T10: writes left in flight by a previous process go back to pending, except those of a
    /// bulk run, which the bulk engine's own journal can resume (no second upload).
    pub fn recover(&self) -> Result<Recovered, Error> {
        let conn = self.conn.lock();
        let resumed = conn
            .execute("UPDATE queue_writes SET state = 'pending', not_before_ms = 0 WHERE state = 'in_flight' AND bulk_run IS NULL", [])
            .map_err(db_error)? as u64;
        let count = |state: ItemState| {
            conn.query_row(
                "SELECT COUNT(*) FROM queue_writes WHERE state = ?1",
                [state.name()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db_error)
        };
        let mut runs = conn
            .prepare("SELECT DISTINCT bulk_run FROM queue_writes WHERE state = 'in_flight' AND bulk_run IS NOT NULL")
            .map_err(db_error)?;
        let bulk_runs = runs
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(Recovered {
            unresolved: count(ItemState::Pending)? + count(ItemState::InFlight)?,
            resumed_in_flight: resumed,
            dead: count(ItemState::Dead)?,
            bulk_runs,
        })
    }

    /// T1: journals `writes` in one transaction; their tickets, in order.
    pub fn append(&self, writes: &[NewWrite], now_ms: u64) -> Result<Vec<Ticket>, Error> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction().map_err(db_error)?;
        let mut tickets = Vec::with_capacity(writes.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO queue_writes (object, op, ext_field, key, record, state, enqueued_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                )
                .map_err(db_error)?;
            for w in writes {
                let record = serde_json::to_string(&w.record).map_err(json_error)?;
                let ext = w.op.external_id().unwrap_or("");
                insert
                    .execute(params![
                        w.object,
                        w.op.name(),
                        ext,
                        w.key,
                        record,
                        now_ms as i64
                    ])
                    .map_err(db_error)?;
                tickets.push(Ticket(tx.last_insert_rowid() as u64));
            }
        }
        tx.commit().map_err(db_error)?;
        Ok(tickets)
    }

    /// Pending writes per group, split by whether their backoff has passed at `now_ms`.
    pub fn groups(&self, now_ms: u64) -> Result<Vec<GroupStat>, Error> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT object, op, ext_field,
                        SUM(not_before_ms <= ?1),
                        MIN(CASE WHEN not_before_ms <= ?1 THEN enqueued_ms END),
                        MIN(CASE WHEN not_before_ms > ?1 THEN not_before_ms END)
                 FROM queue_writes WHERE state = 'pending' GROUP BY object, op, ext_field",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([now_ms as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(db_error)?;
        let mut out = Vec::new();
        for row in rows {
            let (object, op, ext, ready, oldest_ready_ms, next_not_before_ms) =
                row.map_err(db_error)?;
            let key = GroupKey {
                object,
                op: WriteOp::from_journal(&op, &ext)?,
            };
            let (ready, oldest_ready_ms, next_not_before_ms) = (
                ready as u64,
                oldest_ready_ms.map(|v| v as u64),
                next_not_before_ms.map(|v| v as u64),
            );
            out.push(GroupStat {
                key,
                ready,
                oldest_ready_ms,
                next_not_before_ms,
            });
        }
        Ok(out)
    }

    /// The oldest `limit` ready pending writes of `group`, in acceptance order, leaving out
    /// writes whose key has an older write in flight, or pending in another group (update then
    /// delete of one `Id`): those wait, so one key's writes reach Salesforce in order, across
    /// operations too. (Older pending writes of the same group are the collapse's business.)
    pub fn candidates(
        &self,
        group: &GroupKey,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<Item>, Error> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM queue_writes w
             WHERE state = 'pending' AND object = ?1 AND op = ?2 AND ext_field = ?3 AND not_before_ms <= ?4
               AND (key IS NULL OR NOT EXISTS (
                 SELECT 1 FROM queue_writes o
                 WHERE o.object = w.object AND o.key = w.key AND o.seq < w.seq
                   AND (o.state = 'in_flight' OR (o.state = 'pending' AND (o.op != w.op OR o.ext_field != w.ext_field)))))
             ORDER BY seq LIMIT ?5"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
        let ext = group.key_ext();
        let rows = stmt
            .query_map(
                params![
                    group.object,
                    group.op.name(),
                    ext,
                    now_ms as i64,
                    limit as i64
                ],
                read_item,
            )
            .map_err(db_error)?;
        rows.map(|r| r.map_err(db_error)?).collect()
    }

    /// T2 and T3: `taken` go in flight, `superseded` are deleted, in one transaction.
    ///
    /// `superseded` pairs a write with the one replacing it; the replacing write inherits the
    /// oldest ticket it stands for (`covers`), so a flush that waits for the replaced write
    /// waits for its replacement.
    ///
    /// With `bulk_run`, the taken writes are rows of that bulk run, in order.
    pub fn take(
        &self,
        taken: &[u64],
        superseded: &[(u64, u64)],
        bulk_run: Option<&str>,
    ) -> Result<(), Error> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction().map_err(db_error)?;
        {
            let mut fly = tx.prepare_cached("UPDATE queue_writes SET state = 'in_flight', bulk_run = ?2, bulk_row = ?3 WHERE seq = ?1 AND state = 'pending'").map_err(db_error)?;
            for (row, seq) in taken.iter().enumerate() {
                fly.execute(params![*seq as i64, bulk_run, bulk_run.map(|_| row as i64)])
                    .map_err(db_error)?;
            }
            let mut inherit = tx
                .prepare_cached(
                    "UPDATE queue_writes SET covers = MIN(COALESCE(covers, seq),
                       (SELECT COALESCE(covers, seq) FROM queue_writes WHERE seq = ?1)) WHERE seq = ?2",
                )
                .map_err(db_error)?;
            let mut drop_row = tx
                .prepare_cached("DELETE FROM queue_writes WHERE seq = ?1 AND state = 'pending'")
                .map_err(db_error)?;
            for (seq, by) in superseded {
                inherit
                    .execute([*seq as i64, *by as i64])
                    .map_err(db_error)?;
                drop_row.execute([*seq as i64]).map_err(db_error)?;
            }
        }
        tx.commit().map_err(db_error)
    }

    /// T4–T9: records each in-flight write's settlement in one transaction. `retry_at` gives
    /// the backoff end (Unix ms) for a write's next attempt number.
    pub fn settle(
        &self,
        settled: &[(Item, Settle)],
        retry_at: impl Fn(u32) -> u64,
    ) -> Result<(), Error> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction().map_err(db_error)?;
        {
            let mut delivered = tx
                .prepare_cached("DELETE FROM queue_writes WHERE seq = ?1")
                .map_err(db_error)?;
            let mut pending = tx
                .prepare_cached("UPDATE queue_writes SET state = 'pending', bulk_run = NULL, attempts = attempts + 1, not_before_ms = ?2, solo = solo OR ?3 WHERE seq = ?1")
                .map_err(db_error)?;
            let mut dead = tx
                .prepare_cached("UPDATE queue_writes SET state = 'dead', attempts = attempts + 1, error = ?2 WHERE seq = ?1")
                .map_err(db_error)?;
            for (item, settle) in settled {
                match settle {
                    Settle::Delivered { .. } => delivered.execute([item.seq as i64]),
                    Settle::Retry(_) => pending.execute(params![
                        item.seq as i64,
                        retry_at(item.attempts) as i64,
                        false
                    ]),
                    Settle::Solo => pending.execute(params![item.seq as i64, 0i64, true]),
                    Settle::Dead(error) => dead.execute(params![
                        item.seq as i64,
                        serde_json::to_string(error).map_err(json_error)?
                    ]),
                }
                .map_err(db_error)?;
            }
        }
        tx.commit().map_err(db_error)
    }

    /// The in-flight writes of bulk run `run_id`, in row order.
    pub fn bulk_items(&self, run_id: &str) -> Result<Vec<Item>, Error> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {COLUMNS} FROM queue_writes WHERE state = 'in_flight' AND bulk_run = ?1 ORDER BY bulk_row");
        let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
        let rows = stmt.query_map([run_id], read_item).map_err(db_error)?;
        rows.map(|r| r.map_err(db_error)?).collect()
    }

    /// Writes accepted up to and including `ticket` that have no outcome yet, counting a write
    /// that replaced one of them as one of them.
    pub fn unresolved_through(&self, ticket: Ticket) -> Result<u64, Error> {
        self.conn
            .lock()
            .query_row("SELECT COUNT(*) FROM queue_writes WHERE COALESCE(covers, seq) <= ?1 AND state IN ('pending', 'in_flight')", [ticket.0 as i64], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(db_error)
    }

    /// The newest ticket handed out so far (0 when none).
    pub fn last_ticket(&self) -> Result<Ticket, Error> {
        let conn = self.conn.lock();
        let seq: Option<i64> = conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'queue_writes'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_error)?;
        Ok(Ticket(seq.unwrap_or(0) as u64))
    }

    /// When the oldest unresolved write was accepted (Unix ms).
    pub fn oldest_unresolved_ms(&self) -> Result<Option<u64>, Error> {
        self.conn
            .lock()
            .query_row(
                "SELECT MIN(enqueued_ms) FROM queue_writes WHERE state IN ('pending', 'in_flight')",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map(|v| v.map(|v| v as u64))
            .map_err(db_error)
    }

    /// Up to `limit` dead letters with tickets after `after`, oldest first.
    pub fn dead_letters(&self, after: Ticket, limit: usize) -> Result<Vec<DeadLetter>, Error> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {COLUMNS} FROM queue_writes WHERE state = 'dead' AND seq > ?1 ORDER BY seq LIMIT ?2");
        let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
        let rows = stmt
            .query_map(params![after.0 as i64, limit as i64], read_dead)
            .map_err(db_error)?;
        rows.map(|r| r.map_err(db_error)?).collect()
    }

    /// One dead letter.
    pub fn dead_letter(&self, ticket: Ticket) -> Result<Option<DeadLetter>, Error> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {COLUMNS} FROM queue_writes WHERE state = 'dead' AND seq = ?1");
        conn.query_row(&sql, [ticket.0 as i64], read_dead)
            .optional()
            .map_err(db_error)?
            .transpose()
    }

    /// T11: replaces the dead letter `ticket` by `write` (a new pending row), atomically.
    /// `None` when `ticket` is not (or no longer) a dead letter.
    pub fn replay(
        &self,
        ticket: Ticket,
        write: &NewWrite,
        now_ms: u64,
    ) -> Result<Option<Ticket>, Error> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction().map_err(db_error)?;
        if tx
            .execute(
                "DELETE FROM queue_writes WHERE seq = ?1 AND state = 'dead'",
                [ticket.0 as i64],
            )
            .map_err(db_error)?
            == 0
        {
            return Ok(None);
        }
        let record = serde_json::to_string(&write.record).map_err(json_error)?;
        tx.execute(
            "INSERT INTO queue_writes (object, op, ext_field, key, record, state, enqueued_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
            params![write.object, write.op.name(), write.op.external_id().unwrap_or(""), write.key, record, now_ms as i64],
        )
        .map_err(db_error)?;
        let new = Ticket(tx.last_insert_rowid() as u64);
        tx.commit().map_err(db_error)?;
        Ok(Some(new))
    }

    /// T12: deletes the dead letter `ticket`; whether there was one.
    pub fn discard(&self, ticket: Ticket) -> Result<bool, Error> {
        let n = self
            .conn
            .lock()
            .execute(
                "DELETE FROM queue_writes WHERE seq = ?1 AND state = 'dead'",
                [ticket.0 as i64],
            )
            .map_err(db_error)?;
        Ok(n == 1)
    }
}

impl GroupKey {
    fn key_ext(&self) -> &str {
        self.op.external_id().unwrap_or("")
    }
}

type RawItem = Result<Item, Error>;

fn read_item(r: &Row<'_>) -> rusqlite::Result<RawItem> {
    let (seq, object, op, ext): (i64, String, String, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let seq = seq as u64;
    let (key, record, attempts, solo): (Option<String>, String, u32, bool) =
        (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
    Ok((|| {
        let op = WriteOp::from_journal(&op, &ext)?;
        let record: Record = serde_json::from_str(&record).map_err(json_error)?;
        Ok(Item {
            seq,
            object,
            op,
            key,
            record,
            attempts,
            solo,
        })
    })())
}

fn read_dead(r: &Row<'_>) -> rusqlite::Result<Result<DeadLetter, Error>> {
    let item = read_item(r)?;
    let (enqueued_at_ms, error): (i64, Option<String>) = (r.get(8)?, r.get(9)?);
    let enqueued_at_ms = enqueued_at_ms as u64;
    Ok((|| {
        let item = item?;
        let error: WriteError =
            serde_json::from_str(error.as_deref().unwrap_or("null")).map_err(json_error)?;
        Ok(DeadLetter {
            ticket: Ticket(item.seq),
            object: item.object,
            op: item.op,
            key: item.key,
            record: item.record,
            error,
            attempts: item.attempts,
            enqueued_at_ms,
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upsert(ext: &str) -> NewWrite {
        let record = json!({"Name": ext, "External_Id__c": ext})
            .as_object()
            .unwrap()
            .clone();
        NewWrite::new("Account", WriteOp::upsert("External_Id__c"), record, None).unwrap()
    }

    fn open(dir: &tempfile::TempDir) -> Journal {
        Journal::open(&dir.path().join("q.sqlite"), SyncMode::Normal).unwrap()
    }

    #[test]
    fn t1_t2_t10_appended_writes_survive_a_reopen_and_in_flight_ones_return_to_pending() {
        let dir = tempfile::tempdir().unwrap();
        let journal = open(&dir);
        let tickets = journal
            .append(&[upsert("a"), upsert("b"), upsert("c")], 1_000)
            .unwrap();
        assert_eq!(tickets, vec![Ticket(1), Ticket(2), Ticket(3)]);
        let group = journal.groups(1_000).unwrap().remove(0);
        assert_eq!((group.ready, group.oldest_ready_ms), (3, Some(1_000)));
        let items = journal.candidates(&group.key, 1_000, 2).unwrap();
        assert_eq!(items.iter().map(|i| i.seq).collect::<Vec<_>>(), vec![1, 2]);
        journal.take(&[1, 2], &[], None).unwrap();
        drop(journal);
        let journal = open(&dir);
        let recovered = journal.recover().unwrap();
        assert_eq!(
            recovered,
            Recovered {
                unresolved: 3,
                resumed_in_flight: 2,
                dead: 0,
                bulk_runs: vec![]
            }
        );
        assert_eq!(journal.last_ticket().unwrap(), Ticket(3));
    }

    #[test]
    fn t3_a_write_replaced_by_a_later_one_is_unresolved_until_the_later_one_settles() {
        let dir = tempfile::tempdir().unwrap();
        let journal = open(&dir);
        journal.append(&[upsert("a"), upsert("b")], 1_000).unwrap();
        journal.append(&[upsert("a")], 1_000).unwrap();
        let group = journal.groups(1_000).unwrap().remove(0);
        let items = journal.candidates(&group.key, 1_000, 10).unwrap();
        journal.take(&[2, 3], &[(1, 3)], None).unwrap();
        assert_eq!(
            journal.unresolved_through(Ticket(1)).unwrap(),
            1,
            "ticket 3 stands for ticket 1"
        );
        let settled = vec![(
            items[2].clone(),
            Settle::Delivered {
                id: None,
                created: None,
            },
        )];
        journal.settle(&settled, |_| 0).unwrap();
        assert_eq!(journal.unresolved_through(Ticket(1)).unwrap(), 0);
        assert_eq!(
            journal.unresolved_through(Ticket(3)).unwrap(),
            1,
            "ticket 2 is still in flight"
        );
    }

    #[test]
    fn a_key_written_by_two_operations_is_sent_in_acceptance_order() {
        let dir = tempfile::tempdir().unwrap();
        let journal = open(&dir);
        let id = json!({"Id": "001000000000001AAA"})
            .as_object()
            .unwrap()
            .clone();
        let update = NewWrite::new("Account", WriteOp::Update, id.clone(), None).unwrap();
        let delete = NewWrite::new("Account", WriteOp::Delete, id, None).unwrap();
        journal.append(&[update, delete], 1_000).unwrap();
        let groups = journal.groups(1_000).unwrap();
        let group = |op: WriteOp| groups.iter().find(|g| g.key.op == op).unwrap().key.clone();
        assert!(
            journal
                .candidates(&group(WriteOp::Delete), 1_000, 10)
                .unwrap()
                .is_empty(),
            "the delete waits"
        );
        let updates = journal
            .candidates(&group(WriteOp::Update), 1_000, 10)
            .unwrap();
        journal.take(&[1], &[], None).unwrap();
        assert!(
            journal
                .candidates(&group(WriteOp::Delete), 1_000, 10)
                .unwrap()
                .is_empty(),
            "still, while in flight"
        );
        journal
            .settle(
                &[(
                    updates[0].clone(),
                    Settle::Delivered {
                        id: None,
                        created: None,
                    },
                )],
                |_| 0,
            )
            .unwrap();
        assert_eq!(
            journal
                .candidates(&group(WriteOp::Delete), 1_000, 10)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn the_fsync_policy_is_the_configured_one() {
        let dir = tempfile::tempdir().unwrap();
        for (mode, pragma) in [(SyncMode::Full, 2), (SyncMode::Normal, 1)] {
            let journal =
                Journal::open(&dir.path().join(format!("{pragma}.sqlite")), mode).unwrap();
            let conn = journal.conn.lock();
            let sync: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            let wal: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!((sync, wal.as_str()), (pragma, "wal"));
        }
    }

    #[test]
    fn t10_writes_of_a_bulk_run_stay_in_flight_across_a_restart_for_the_run_to_resume() {
        let dir = tempfile::tempdir().unwrap();
        let journal = open(&dir);
        journal
            .append(&[upsert("a"), upsert("b"), upsert("c")], 1_000)
            .unwrap();
        journal.take(&[2, 1], &[], Some("queue-run")).unwrap();
        journal.take(&[3], &[], None).unwrap();
        drop(journal);
        let journal = open(&dir);
        let recovered = journal.recover().unwrap();
        assert_eq!(
            recovered,
            Recovered {
                unresolved: 3,
                resumed_in_flight: 1,
                dead: 0,
                bulk_runs: vec!["queue-run".into()]
            }
        );
        let rows: Vec<u64> = journal
            .bulk_items("queue-run")
            .unwrap()
            .iter()
            .map(|i| i.seq)
            .collect();
        assert_eq!(rows, vec![2, 1], "in the run's row order");
    }

    #[test]
    fn a_second_opener_of_a_live_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = open(&dir);
        let err = Journal::open(&dir.path().join("q.sqlite"), SyncMode::Full).expect_err("locked");
        assert_eq!(err.code(), "QUEUE_JOURNAL_IN_USE");
    }

    #[test]
    fn t4_t5_t7_t11_t12_settlements_delete_back_off_or_park_and_dead_letters_replay() {
        let dir = tempfile::tempdir().unwrap();
        let journal = open(&dir);
        journal
            .append(&[upsert("a"), upsert("b"), upsert("c")], 1_000)
            .unwrap();
        let group = journal.groups(1_000).unwrap().remove(0);
        let items = journal.candidates(&group.key, 1_000, 10).unwrap();
        journal.take(&[1, 2, 3], &[], None).unwrap();
        let error = WriteError {
            code: "REQUIRED_FIELD_MISSING".into(),
            message: "Required fields are missing: [Name]".into(),
            fields: vec!["Name".into()],
        };
        let settled = vec![
            (
                items[0].clone(),
                Settle::Delivered {
                    id: Some("001".into()),
                    created: Some(true),
                },
            ),
            (items[1].clone(), Settle::Retry("SERVER_UNAVAILABLE".into())),
            (items[2].clone(), Settle::Dead(error.clone())),
        ];
        journal
            .settle(&settled, |attempt| 5_000 + u64::from(attempt))
            .unwrap();
        assert_eq!(journal.unresolved_through(Ticket(3)).unwrap(), 1);
        let group = journal.groups(1_000).unwrap().remove(0);
        assert_eq!((group.ready, group.next_not_before_ms), (0, Some(5_000)));
        let dead = journal.dead_letters(Ticket(0), 10).unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            (dead[0].ticket, &dead[0].error, dead[0].attempts),
            (Ticket(3), &error, 1)
        );
        let new = journal.replay(Ticket(3), &upsert("c2"), 2_000).unwrap();
        assert_eq!(new, Some(Ticket(4)));
        assert_eq!(
            journal.replay(Ticket(3), &upsert("c2"), 2_000).unwrap(),
            None,
            "replayed once only"
        );
        assert!(journal.dead_letters(Ticket(0), 10).unwrap().is_empty());
        assert!(
            !journal.discard(Ticket(4)).unwrap(),
            "only dead letters are discarded"
        );
    }
}
