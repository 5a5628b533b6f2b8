//! One process at a time per run: a lease in the journal.
//!
//! Two processes driving one run would both find a chunk's job `Open`, both abort it and both
//! upload the chunk again — the rows would be inserted twice. So a run is *claimed* before it
//! is started or resumed: the journal records the owner (`host:pid:nonce`) and a lease that
//! the owner renews every `ttl / 3` while it works. Another process may take the run over when
//! the lease has expired, or at once when the owner is on the same host and its process is
//! gone (a killed run can be resumed immediately, without waiting out the lease).
//!
//! Rejected alternative: an OS file lock. It is released on crash for free, but it does not
//! hold across hosts sharing a work directory, and SQLite already gives an atomic claim.

use std::time::Duration;

use crate::bulk::codes::BULK_RUN_BUSY;
use crate::bulk::journal::Journal;
use crate::error::{Error, ErrorKind};

/// How long a claim lasts without renewal.
const TTL: Duration = Duration::from_secs(60);

/// A held claim on a run; release it with [`Lease::release`].
#[derive(Debug)]
pub struct Lease {
    journal: Journal,
    run_id: String,
    owner: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn until_ms() -> i64 {
    now_ms() + TTL.as_millis() as i64
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether the holder `host:pid:nonce` with a lease until `until` can be displaced.
fn is_stale(holder: &str, until: i64, here: &str, now: i64) -> bool {
    if until < now {
        return true;
    }
    let mut parts = holder.splitn(3, ':');
    let (Some(holder_host), Some(pid)) = (parts.next(), parts.next()) else {
        return true;
    };
    holder_host == here && !process_alive(pid)
}

fn process_alive(pid: &str) -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    pid.parse::<u32>()
        .is_ok_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

impl Lease {
    /// Claims `run_id` for this process, or fails with `BULK_RUN_BUSY`.
    pub fn acquire(journal: &Journal, run_id: &str) -> Result<Lease, Error> {
        let here = host();
        let owner = format!(
            "{here}:{}:{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let now = now_ms();
        if journal.claim(run_id, &owner, until_ms(), |holder, until| {
            is_stale(holder, until, &here, now)
        })? {
            Ok(Lease {
                journal: journal.clone(),
                run_id: run_id.to_owned(),
                owner,
            })
        } else {
            Err(Error::new(
                ErrorKind::InvalidInput,
                BULK_RUN_BUSY,
                format!("bulk run '{run_id}' is being driven by another live process; wait for it, or for its lease to expire"),
            ))
        }
    }

    /// Renews the lease every `ttl / 3`; returns only if the run was taken over (an error).
    pub async fn keep(&self) -> Error {
        loop {
            tokio::time::sleep(TTL / 3).await;
            match self.journal.renew(&self.run_id, &self.owner, until_ms()) {
                Ok(true) => {}
                Ok(false) => {
                    return Error::new(
                        ErrorKind::InvalidInput,
                        BULK_RUN_BUSY,
                        format!(
                            "bulk run '{}' was taken over by another process",
                            self.run_id
                        ),
                    )
                }
                Err(e) => return e,
            }
        }
    }

    /// Gives the run up (a finished, stopped or deadline-paused run).
    pub fn release(&self) -> Result<(), Error> {
        self.journal.release(&self.run_id, &self.owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_owner_keeps_the_run_and_a_released_or_dead_one_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let journal = Journal::open(&tmp.path().join("j.sqlite")).unwrap();
        journal.create_run("r", "{}").unwrap();
        let first = Lease::acquire(&journal, "r").unwrap();
        let busy = Lease::acquire(&journal, "r").unwrap_err();
        assert_eq!(
            busy.code(),
            BULK_RUN_BUSY,
            "this process is alive, so its claim stands"
        );
        first.release().unwrap();
        let second = Lease::acquire(&journal, "r").unwrap();
        assert!(journal.renew("r", &second.owner, until_ms()).unwrap());
        assert!(
            !journal.renew("r", &first.owner, until_ms()).unwrap(),
            "a released owner cannot renew"
        );
    }

    #[test]
    fn expired_leases_and_dead_processes_on_this_host_are_stale() {
        let now = now_ms();
        let later = now + 60_000;
        assert!(is_stale("h:1:x", now - 1, "h", now), "expired");
        assert!(
            is_stale("h:4294967294:x", later, "h", now),
            "no such process here"
        );
        assert!(
            !is_stale(&format!("h:{}:x", std::process::id()), later, "h", now),
            "alive here"
        );
        assert!(
            !is_stale("other:4294967294:x", later, "h", now),
            "another host: only the lease counts"
        );
    }
}
