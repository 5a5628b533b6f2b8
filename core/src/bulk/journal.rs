//! The run journal: what a bulk run has done, written as it happens, in embedded SQLite.
//!
//! A run (id, settings, shapes, round, counters) has chunks; each chunk records its job id the
//! moment Salesforce returns it, then each state it reaches (see the table in
//! `bulk::ingest`), then its outcome counts. After a crash or a kill, `resume(run_id)` reads
//! this back and continues from the last recorded step — that is why every write is its own
//! committed transaction (WAL mode, `synchronous=NORMAL`: a committed step survives a killed
//! process) and why the job id is recorded before anything is uploaded to the job.
//!
//! Rejected alternatives: a JSON file rewritten per step (a kill mid-write loses the whole
//! journal), an append-only log (resume would have to replay it; SQLite gives the current
//! state by query and atomic multi-row steps, such as planning a round, for free).

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::bulk::plan::ChunkPlan;
use crate::error::{Error, ErrorKind};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  shapes TEXT NOT NULL DEFAULT '[]',
  state TEXT NOT NULL,
  round INTEGER NOT NULL DEFAULT 0,
  rows_read INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  api_calls INTEGER NOT NULL DEFAULT 0,
  jobs_used INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE IF NOT EXISTS chunks (
  run_id TEXT NOT NULL,
  chunk_id INTEGER NOT NULL,
  round INTEGER NOT NULL,
  shape INTEGER NOT NULL,
  lane INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  state TEXT NOT NULL,
  job_id TEXT,
  server_state TEXT,
  succeeded INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  lock_deferred INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  PRIMARY KEY (run_id, chunk_id)
);
";

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Reading input and writing chunk files; nothing uploaded yet.
    Planning,
    /// Chunks planned; jobs running.
    Running,
    /// Every chunk of every round has its outcome.
    Done,
}

impl RunState {
    fn parse(s: &str) -> RunState {
        match s {
            "planning" => RunState::Planning,
            "done" => RunState::Done,
            _ => RunState::Running,
        }
    }
}

/// Where a chunk is (the transitions are in `bulk::ingest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkState {
    /// Planned; no job yet.
    Pending,
    /// A job exists (id recorded); the upload may be missing or partial.
    Created,
    /// The upload was accepted; the job is still `Open`.
    Uploaded,
    /// `UploadComplete` was sent: the job belongs to Salesforce now and is only polled.
    Closed,
    /// Outcomes recorded.
    Done,
}

impl ChunkState {
    /// Stable name stored in the journal.
    pub fn name(self) -> &'static str {
        match self {
            ChunkState::Pending => "pending",
            ChunkState::Created => "created",
            ChunkState::Uploaded => "uploaded",
            ChunkState::Closed => "closed",
            ChunkState::Done => "done",
        }
    }
    fn parse(s: &str) -> ChunkState {
        match s {
            "created" => ChunkState::Created,
            "uploaded" => ChunkState::Uploaded,
            "closed" => ChunkState::Closed,
            "done" => ChunkState::Done,
            _ => ChunkState::Pending,
        }
    }
}

/// A run as journaled.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Run id.
    pub run_id: String,
    /// The run's spec, as JSON.
    pub spec: String,
    /// The shapes' columns, as JSON.
    pub shapes: String,
    /// Where the run is.
    pub state: RunState,
    /// The current lock-retry round.
    pub round: u32,
    /// Input rows read.
    pub rows_read: u64,
    /// Rows refused before upload.
    pub rejected: u64,
    /// Requests the run has made.
    pub api_calls: u64,
    /// Jobs the run has created.
    pub jobs_used: u64,
}

/// Outcome counts of one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    /// Rows Salesforce processed successfully.
    pub succeeded: u64,
    /// Rows that failed for good (including unprocessed and unmatched rows).
    pub failed: u64,
    /// Rows that failed on a lock and go to the next round.
    pub lock_deferred: u64,
}

/// A chunk as journaled.
#[derive(Debug, Clone)]
pub struct ChunkRecord {
    /// The plan.
    pub plan: ChunkPlan,
    /// The lock-retry round it belongs to.
    pub round: u32,
    /// Where it is.
    pub state: ChunkState,
    /// Its current job.
    pub job_id: Option<String>,
    /// The job's last known Salesforce state.
    pub server_state: Option<String>,
    /// Outcome counts (when `Done`).
    pub counts: ChunkCounts,
    /// The job's error message, when it failed.
    pub error: Option<String>,
}

/// The journal: one SQLite file, shared by every run in a work directory.
#[derive(Clone)]
pub struct Journal {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

/// SQLite integers are signed; counts and ids stay far below `i64::MAX`.
fn q(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn n(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn db_error(e: rusqlite::Error) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        crate::bulk::codes::BULK_JOURNAL,
        format!("bulk journal: {e}"),
    )
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::bulk::plan::io_error("cannot create", dir, e))?;
        }
        let conn = Connection::open(path).map_err(db_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(Journal {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Records a new run in `Planning`.
    pub fn create_run(&self, run_id: &str, spec: &str) -> Result<(), Error> {
        self.conn
            .lock()
            .execute(
                "INSERT INTO runs (run_id, spec, state) VALUES (?1, ?2, 'planning')",
                params![run_id, spec],
            )
            .map(drop)
            .map_err(db_error)
    }

    /// The run, if journaled.
    pub fn run(&self, run_id: &str) -> Result<Option<RunRecord>, Error> {
        self.conn
            .lock()
            .query_row(
                "SELECT run_id, spec, shapes, state, round, rows_read, rejected, api_calls, jobs_used FROM runs WHERE run_id = ?1",
                params![run_id],
                |r| {
                    Ok(RunRecord {
                        run_id: r.get(0)?,
                        spec: r.get(1)?,
                        shapes: r.get(2)?,
                        state: RunState::parse(&r.get::<_, String>(3)?),
                        round: r.get(4)?,
                        rows_read: n(r.get(5)?),
                        rejected: n(r.get(6)?),
                        api_calls: n(r.get(7)?),
                        jobs_used: n(r.get(8)?),
                    })
                },
            )
            .optional()
            .map_err(db_error)
    }

    /// Records the plan of round `round` in one transaction: its chunks, and for round 0 the
    /// shapes and input counts; the run moves to `Running`.
    pub fn record_plan(
        &self,
        run_id: &str,
        round: u32,
        chunks: &[ChunkPlan],
        shapes: &str,
        rows_read: u64,
        rejected: u64,
    ) -> Result<(), Error> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction().map_err(db_error)?;
        {
            let mut insert = tx
                .prepare("INSERT INTO chunks (run_id, chunk_id, round, shape, lane, rows, bytes, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')")
                .map_err(db_error)?;
            for c in chunks {
                insert
                    .execute(params![
                        run_id,
                        q(c.id),
                        round,
                        q(c.shape as u64),
                        q(c.lane),
                        q(c.rows),
                        q(c.bytes)
                    ])
                    .map_err(db_error)?;
            }
        }
        tx.execute(
            "UPDATE runs SET state = 'running', round = ?2, shapes = ?3, rows_read = ?4, rejected = ?5, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE run_id = ?1",
            params![run_id, round, shapes, q(rows_read), q(rejected)],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)
    }

    /// Every chunk of the run, ordered by id.
    pub fn chunks(&self, run_id: &str) -> Result<Vec<ChunkRecord>, Error> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare(
                "SELECT chunk_id, round, shape, lane, rows, bytes, state, job_id, server_state, succeeded, failed, lock_deferred, error \
                 FROM chunks WHERE run_id = ?1 ORDER BY chunk_id",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map(params![run_id], chunk_from_row)
            .map_err(db_error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_error)
    }

    /// A chunk's job was created: its id is recorded before anything is uploaded to it.
    pub fn chunk_job(&self, run_id: &str, chunk: u64, job_id: &str) -> Result<(), Error> {
        self.exec(
            "UPDATE chunks SET state = 'created', job_id = ?3, server_state = 'Open' WHERE run_id = ?1 AND chunk_id = ?2",
            params![run_id, q(chunk), job_id],
        )?;
        self.exec(
            "UPDATE runs SET jobs_used = jobs_used + 1 WHERE run_id = ?1",
            params![run_id],
        )
    }

    /// A chunk reached `state`; `server_state` is the job's Salesforce state when known.
    pub fn chunk_state(
        &self,
        run_id: &str,
        chunk: u64,
        state: ChunkState,
        server_state: Option<&str>,
    ) -> Result<(), Error> {
        self.exec(
            "UPDATE chunks SET state = ?3, server_state = COALESCE(?4, server_state) WHERE run_id = ?1 AND chunk_id = ?2",
            params![run_id, q(chunk), state.name(), server_state],
        )
    }

    /// A chunk's job was abandoned (aborted while still `Open`): the chunk starts over.
    pub fn chunk_reset(&self, run_id: &str, chunk: u64) -> Result<(), Error> {
        self.exec(
            "UPDATE chunks SET state = 'pending', job_id = NULL, server_state = NULL WHERE run_id = ?1 AND chunk_id = ?2",
            params![run_id, q(chunk)],
        )
    }

    /// A chunk's outcomes are recorded.
    pub fn chunk_done(
        &self,
        run_id: &str,
        chunk: u64,
        server_state: &str,
        counts: ChunkCounts,
        error: Option<&str>,
    ) -> Result<(), Error> {
        self.exec(
            "UPDATE chunks SET state = 'done', server_state = ?3, succeeded = ?4, failed = ?5, lock_deferred = ?6, error = ?7 \
             WHERE run_id = ?1 AND chunk_id = ?2",
            params![
                run_id,
                q(chunk),
                server_state,
                q(counts.succeeded),
                q(counts.failed),
                q(counts.lock_deferred),
                error
            ],
        )
    }

    /// Adds to the run's request count.
    pub fn add_api_calls(&self, run_id: &str, n: u64) -> Result<(), Error> {
        self.exec(
            "UPDATE runs SET api_calls = api_calls + ?2 WHERE run_id = ?1",
            params![run_id, q(n)],
        )
    }

    /// Makes `owner` the run's owner until `until_ms` (Unix milliseconds) if the run has no
    /// owner, is already `owner`'s, or `stale(current_owner, current_until)` says the current
    /// owner is gone. One immediate transaction, so two processes cannot both win.
    pub fn claim(
        &self,
        run_id: &str,
        owner: &str,
        until_ms: i64,
        stale: impl Fn(&str, i64) -> bool,
    ) -> Result<bool, Error> {
        let mut conn = self.conn.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let current: Option<(Option<String>, i64)> = tx
            .query_row(
                "SELECT owner, lease_until FROM runs WHERE run_id = ?1",
                params![run_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_error)?;
        let free = match &current {
            None => return Ok(false),
            Some((None, _)) => true,
            Some((Some(holder), until)) => holder == owner || stale(holder, *until),
        };
        if free {
            tx.execute(
                "UPDATE runs SET owner = ?2, lease_until = ?3 WHERE run_id = ?1",
                params![run_id, owner, until_ms],
            )
            .map_err(db_error)?;
        }
        tx.commit().map_err(db_error)?;
        Ok(free)
    }

    /// Extends `owner`'s lease; `false` if the run is no longer `owner`'s.
    pub fn renew(&self, run_id: &str, owner: &str, until_ms: i64) -> Result<bool, Error> {
        let changed = self
            .conn
            .lock()
            .execute(
                "UPDATE runs SET lease_until = ?3 WHERE run_id = ?1 AND owner = ?2",
                params![run_id, owner, until_ms],
            )
            .map_err(db_error)?;
        Ok(changed == 1)
    }

    /// Gives the run up.
    pub fn release(&self, run_id: &str, owner: &str) -> Result<(), Error> {
        self.exec(
            "UPDATE runs SET owner = NULL, lease_until = 0 WHERE run_id = ?1 AND owner = ?2",
            params![run_id, owner],
        )
    }

    /// The run is finished.
    pub fn finish_run(&self, run_id: &str) -> Result<(), Error> {
        self.exec(
            "UPDATE runs SET state = 'done', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE run_id = ?1",
            params![run_id],
        )
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), Error> {
        self.conn
            .lock()
            .execute(sql, params)
            .map(drop)
            .map_err(db_error)
    }
}

fn chunk_from_row(r: &Row<'_>) -> rusqlite::Result<ChunkRecord> {
    Ok(ChunkRecord {
        plan: ChunkPlan {
            id: n(r.get(0)?),
            shape: n(r.get(2)?) as usize,
            lane: n(r.get(3)?),
            rows: n(r.get(4)?),
            bytes: n(r.get(5)?),
        },
        round: r.get(1)?,
        state: ChunkState::parse(&r.get::<_, String>(6)?),
        job_id: r.get(7)?,
        server_state: r.get(8)?,
        counts: ChunkCounts {
            succeeded: n(r.get(9)?),
            failed: n(r.get(10)?),
            lock_deferred: n(r.get(11)?),
        },
        error: r.get(12)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(id: u64) -> ChunkPlan {
        ChunkPlan {
            id,
            shape: 0,
            lane: id,
            rows: 10,
            bytes: 100,
        }
    }

    #[test]
    fn a_run_survives_reopening_with_every_step() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("journal.sqlite");
        {
            let j = Journal::open(&path).unwrap();
            j.create_run("r1", "{}").unwrap();
            assert_eq!(j.run("r1").unwrap().unwrap().state, RunState::Planning);
            j.record_plan("r1", 0, &[plan(0), plan(1)], "[[\"Name\"]]", 20, 1)
                .unwrap();
            j.chunk_job("r1", 0, "750000000000001AAA").unwrap();
            j.chunk_state("r1", 0, ChunkState::Closed, Some("UploadComplete"))
                .unwrap();
            j.chunk_done(
                "r1",
                1,
                "JobComplete",
                ChunkCounts {
                    succeeded: 9,
                    failed: 1,
                    lock_deferred: 0,
                },
                None,
            )
            .unwrap();
            j.add_api_calls("r1", 7).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let run = j.run("r1").unwrap().unwrap();
        assert_eq!(
            (
                run.state,
                run.rows_read,
                run.rejected,
                run.api_calls,
                run.jobs_used
            ),
            (RunState::Running, 20, 1, 7, 1)
        );
        let chunks = j.chunks("r1").unwrap();
        assert_eq!(chunks[0].state, ChunkState::Closed);
        assert_eq!(chunks[0].job_id.as_deref(), Some("750000000000001AAA"));
        assert_eq!(chunks[0].server_state.as_deref(), Some("UploadComplete"));
        assert_eq!(chunks[1].counts.succeeded, 9);
        j.chunk_reset("r1", 0).unwrap();
        let c0 = &j.chunks("r1").unwrap()[0];
        assert_eq!((c0.state, c0.job_id.clone()), (ChunkState::Pending, None));
        assert!(j.run("nope").unwrap().is_none());
    }

    #[test]
    fn a_duplicate_run_id_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let j = Journal::open(&tmp.path().join("j.sqlite")).unwrap();
        j.create_run("r", "{}").unwrap();
        assert!(j
            .create_run("r", "{}")
            .unwrap_err()
            .to_string()
            .contains("BULK_JOURNAL"));
    }
}
