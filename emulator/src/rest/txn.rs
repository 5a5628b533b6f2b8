//! A REST transaction: the row locks a write holds, the processing time it spends holding
//! them, and an undo log so all-or-none work can be rolled back.
//!
//! Salesforce runs each REST write, each sObject Collections call and each all-or-none
//! Composite request as one database transaction. A transaction locks the rows it writes
//! and every parent a locking lookup points at (Contact → Account, wire doc 6.4), keeps
//! them until it commits, and a competing transaction waits up to the lock wait and then
//! fails with `UNABLE_TO_LOCK_ROW`. To make that contention real rather than injected, a
//! transaction spends `bulk.row_micros` of processing time per record while it holds its
//! locks (0 by default: no added time).
//!
//! Writes are applied to the store at once and undone on rollback (rather than staged and
//! applied at commit), because later writes in the same transaction (a Contact created
//! after its Account in one Composite request) must see the earlier ones. A transaction
//! dropped without [`Txn::commit`] — a failure, or a client that hung up mid-request —
//! rolls back. Locks a transaction already holds are not taken again, so one Composite
//! request never waits for itself.

use crate::locks::{LockGuard, LockTimeout};
use crate::schema::ObjectDef;
use crate::state::Org;
use crate::store::{Changes, Record, UpsertError, Upserted};
use crate::values::FieldError;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// How to undo one applied write.
enum Undo {
    /// Remove a record the transaction created.
    Inserted { object: String, id: String },
    /// Put back a record as it was before an update or delete.
    Replaced { object: String, before: Record },
}

/// A point to roll back to inside a transaction (one Collections call inside an
/// all-or-none Composite request rolls back only its own records).
#[derive(Debug, Clone, Copy)]
pub struct Savepoint(usize);

/// One open transaction on an org.
pub struct Txn<'o> {
    org: &'o Org,
    held: HashSet<String>,
    guards: Vec<LockGuard>,
    undo: Vec<Undo>,
}

/// `UNABLE_TO_LOCK_ROW` for rows that stayed locked past the lock wait.
pub fn lock_error(timeout: &LockTimeout) -> FieldError {
    FieldError::new("UNABLE_TO_LOCK_ROW", timeout.message(), &[])
}

impl<'o> Txn<'o> {
    pub fn new(org: &'o Org) -> Self {
        Txn {
            org,
            held: HashSet::new(),
            guards: Vec::new(),
            undo: Vec::new(),
        }
    }

    pub fn org(&self) -> &'o Org {
        self.org
    }

    /// Locks every row in `rows` this transaction does not hold yet, waiting up to the
    /// org's current lock wait; all or nothing.
    pub async fn lock(
        &mut self,
        rows: impl IntoIterator<Item = String>,
    ) -> Result<(), LockTimeout> {
        let mut wanted: Vec<String> = rows
            .into_iter()
            .filter(|r| !self.held.contains(r))
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(());
        }
        let guard = self
            .org
            .locks
            .acquire(wanted.clone(), self.org.lock_wait())
            .await?;
        self.held.extend(wanted);
        self.guards.push(guard);
        Ok(())
    }

    /// Spends the configured processing time for `records` records (with locks held).
    pub async fn process(&self, records: usize) {
        let micros = self
            .org
            .config
            .bulk
            .row_micros
            .saturating_mul(records as u64);
        if micros > 0 {
            tokio::time::sleep(Duration::from_micros(micros)).await;
        }
    }

    pub fn insert(&mut self, object: &ObjectDef, changes: Changes) -> Result<String, FieldError> {
        let id = self.org.store.insert(object, changes)?;
        self.undo.push(Undo::Inserted {
            object: object.name.clone(),
            id: id.clone(),
        });
        Ok(id)
    }

    pub fn update(
        &mut self,
        object: &ObjectDef,
        id: &str,
        changes: Changes,
    ) -> Result<(), FieldError> {
        let before = self.org.store.get(object, id, false);
        self.org.store.update(object, id, changes)?;
        self.replaced(object, before);
        Ok(())
    }

    pub fn upsert(
        &mut self,
        object: &ObjectDef,
        field: &str,
        value: &Value,
        changes: Changes,
        update_only: bool,
    ) -> Result<Upserted, UpsertError> {
        let store = &self.org.store;
        let before = match store.find_by_field(object, field, value).as_slice() {
            [id] => store.get(object, id, false),
            _ => None,
        };
        let outcome = store.upsert(object, field, value, changes, update_only)?;
        match &outcome {
            Upserted::Created(id) => self.undo.push(Undo::Inserted {
                object: object.name.clone(),
                id: id.clone(),
            }),
            Upserted::Updated(id) => self.replaced(object, before.filter(|r| r.id() == id)),
        }
        Ok(outcome)
    }

    /// Moves a record to the recycle bin.
    pub fn delete(&mut self, object: &ObjectDef, id: &str) -> Result<(), FieldError> {
        let before = self.org.store.get(object, id, false);
        self.org.store.delete(object, id, false)?;
        self.replaced(object, before);
        Ok(())
    }

    fn replaced(&mut self, object: &ObjectDef, before: Option<Record>) {
        if let Some(before) = before {
            self.undo.push(Undo::Replaced {
                object: object.name.clone(),
                before,
            });
        }
    }

    pub fn savepoint(&self) -> Savepoint {
        Savepoint(self.undo.len())
    }

    /// Undoes every write made since `savepoint`, newest first.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        let store = &self.org.store;
        while self.undo.len() > savepoint.0 {
            let Some(undo) = self.undo.pop() else { break };
            match undo {
                Undo::Inserted { object, id } => {
                    if let Some(object) = store.schema().object(&object) {
                        // The record may already be gone if the transaction deleted it itself.
                        let _ = store.delete(object, &id, true);
                    }
                }
                Undo::Replaced { object, before } => {
                    if let Some(object) = store.schema().object(&object) {
                        store.restore(object, before);
                    }
                }
            }
        }
    }

    /// Keeps every write and releases the locks.
    pub fn commit(mut self) {
        self.undo.clear();
    }

    /// Undoes every write and releases the locks.
    pub fn rollback(self) {
        drop(self);
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        // Undo before the lock guards (dropped after this body) release the rows.
        self.rollback_to(Savepoint(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::WriteMode;
    use serde_json::json;

    fn changes(org: &Org, object: &ObjectDef, body: Value) -> Changes {
        org.store
            .changes_from_json(object, body.as_object().unwrap(), WriteMode::Insert)
            .unwrap()
    }

    #[tokio::test]
    async fn dropping_a_transaction_undoes_its_writes_in_reverse_order() {
        let org = Org::new(Config::default()).unwrap();
        let account = org.store.schema().object("Account").unwrap().clone();
        let kept = org
            .store
            .insert(
                &account,
                changes(
                    &org,
                    &account,
                    json!({"Name": "Kept", "External_Id__c": "K"}),
                ),
            )
            .unwrap();
        let mut txn = Txn::new(&org);
        let created = txn
            .insert(&account, changes(&org, &account, json!({"Name": "New"})))
            .unwrap();
        txn.update(
            &account,
            &kept,
            changes(
                &org,
                &account,
                json!({"Name": "Changed", "External_Id__c": "K2"}),
            ),
        )
        .unwrap();
        txn.delete(&account, &kept).unwrap();
        txn.delete(&account, &created).unwrap();
        drop(txn);
        assert!(org.store.get(&account, &created, true).is_none());
        let restored = org.store.get(&account, &kept, false).unwrap();
        assert_eq!(restored.get(&account, "Name").unwrap(), "Kept");
        assert_eq!(
            org.store
                .find_by_field(&account, "External_Id__c", &json!("K")),
            vec![kept.clone()]
        );
        assert!(org
            .store
            .find_by_field(&account, "External_Id__c", &json!("K2"))
            .is_empty());
    }

    #[tokio::test]
    async fn a_transaction_does_not_wait_for_rows_it_already_holds() {
        let org = Org::new(Config::default()).unwrap();
        let mut txn = Txn::new(&org);
        txn.lock(["001A".to_string()]).await.unwrap();
        txn.lock(["001A".to_string(), "001B".to_string()])
            .await
            .unwrap();
        assert_eq!(org.locks.held_count(), 2);
        txn.commit();
        assert_eq!(org.locks.held_count(), 0);
    }
}
