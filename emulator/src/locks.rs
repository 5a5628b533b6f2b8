//! Row locks, so `UNABLE_TO_LOCK_ROW` arises the way it does in a real org: a write to a
//! child holds its parent's row (Contact → Account) for as long as its transaction runs,
//! and a competing writer waits up to the lock wait (10 s in production, scaled down in
//! tests) and then fails.
//!
//! Locks are taken all-or-nothing for a transaction's whole set of rows, which avoids
//! deadlocks between transactions that need overlapping sets. Waiters are woken whenever
//! any lock is released and re-check; contention is per org, so one `Notify` is enough.

use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The org's lock table.
#[derive(Default)]
pub struct LockTable {
    held: Mutex<HashSet<String>>,
    released: Notify,
}

/// Rows held by one transaction; released on drop.
pub struct LockGuard {
    table: Arc<LockTable>,
    rows: Vec<String>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        let mut held = self.table.held.lock();
        for row in &self.rows {
            held.remove(row);
        }
        drop(held);
        self.table.released.notify_waiters();
    }
}

/// The rows that could not be locked within the wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTimeout {
    pub rows: Vec<String>,
}

impl LockTimeout {
    /// Salesforce's message for this failure.
    pub fn message(&self) -> String {
        format!(
            "unable to obtain exclusive access to this record or {} records: {}",
            self.rows.len(),
            self.rows.join(",")
        )
    }
}

impl LockTable {
    /// Locks every row in `rows`, waiting up to `wait` for rows other transactions hold.
    pub async fn acquire(
        self: &Arc<Self>,
        rows: Vec<String>,
        wait: Duration,
    ) -> Result<LockGuard, LockTimeout> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_acquire(&rows) {
                Ok(()) => {
                    return Ok(LockGuard {
                        table: self.clone(),
                        rows,
                    })
                }
                Err(busy) => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(LockTimeout { rows: busy });
                    }
                }
            }
        }
    }

    fn try_acquire(&self, rows: &[String]) -> Result<(), Vec<String>> {
        let mut held = self.held.lock();
        let busy: Vec<String> = rows.iter().filter(|r| held.contains(*r)).cloned().collect();
        if !busy.is_empty() {
            return Err(busy);
        }
        held.extend(rows.iter().cloned());
        Ok(())
    }

    /// How many rows are locked right now.
    pub fn held_count(&self) -> usize {
        self.held.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn second_writer_times_out_while_first_holds_the_parent() {
        let table = Arc::new(LockTable::default());
        let first = table
            .acquire(rows(&["001A"]), Duration::from_secs(10))
            .await
            .unwrap();
        let err = table
            .acquire(rows(&["001B", "001A"]), Duration::from_secs(10))
            .await
            .err()
            .unwrap();
        assert_eq!(err.rows, rows(&["001A"]));
        assert!(err.message().contains("1 records: 001A"));
        drop(first);
        assert_eq!(table.held_count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn waiter_gets_the_lock_when_holder_releases_within_the_wait() {
        let table = Arc::new(LockTable::default());
        let first = table
            .acquire(rows(&["001A"]), Duration::from_secs(10))
            .await
            .unwrap();
        let waiter = {
            let table = table.clone();
            tokio::spawn(async move {
                table
                    .acquire(rows(&["001A"]), Duration::from_secs(10))
                    .await
                    .is_ok()
            })
        };
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(first);
        assert!(waiter.await.unwrap());
        assert_eq!(table.held_count(), 0);
    }

    #[tokio::test]
    async fn disjoint_rows_do_not_contend() {
        let table = Arc::new(LockTable::default());
        let _a = table
            .acquire(rows(&["001A"]), Duration::ZERO)
            .await
            .unwrap();
        let _b = table
            .acquire(rows(&["001B"]), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(table.held_count(), 2);
    }
}
