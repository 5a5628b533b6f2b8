//! Running a planned Collections call as one transaction: all parent locks taken
//! together and held for the call's processing time, partial-save lock retries, the
//! records applied in input order, and the all-or-none rollback.

use super::plan::{Op, Plan, Planned};
use crate::rest::call::Reply;
use crate::rest::txn::{lock_error, Txn};
use crate::state::Org;
use crate::store::{UpsertError, Upserted};
use crate::values::FieldError;
use serde_json::{json, Value};

/// Lock attempts of a partial-save call before the records still waiting fail.
const LOCK_ATTEMPTS: usize = 3;

/// The result of one record.
pub(super) enum Outcome {
    Saved {
        id: String,
        created: Option<bool>,
    },
    Failed {
        id: Option<String>,
        error: FieldError,
    },
}

impl Outcome {
    pub(super) fn failed(id: Option<String>, error: FieldError) -> Self {
        Outcome::Failed { id, error }
    }

    fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }

    pub(super) fn to_json(&self) -> Value {
        match self {
            Outcome::Saved { id, created } => {
                let mut v = json!({"id": id, "success": true, "errors": []});
                if let Some(created) = created {
                    v["created"] = json!(created);
                }
                v
            }
            Outcome::Failed { id, error } => {
                let errors = json!([{"statusCode": error.code, "message": error.message, "fields": error.fields}]);
                match id {
                    Some(id) => json!({"id": id, "success": false, "errors": errors}),
                    None => json!({"success": false, "errors": errors}),
                }
            }
        }
    }
}

fn rolled_back() -> FieldError {
    FieldError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        &[],
    )
}

/// Applies one planned operation to the transaction.
fn apply(txn: &mut Txn<'_>, op: Op<'_>) -> Outcome {
    match op {
        Op::Insert { object, changes } => match txn.insert(object, changes) {
            Ok(id) => Outcome::Saved { id, created: None },
            Err(e) => Outcome::failed(None, e),
        },
        Op::Update {
            object,
            id,
            changes,
        } => match txn.update(object, &id, changes) {
            Ok(()) => Outcome::Saved { id, created: None },
            Err(e) => Outcome::failed(Some(id), e),
        },
        Op::Upsert {
            object,
            field,
            value,
            changes,
        } => match txn.upsert(object, &field.name, &value, changes, false) {
            Ok(Upserted::Created(id)) => Outcome::Saved {
                id,
                created: Some(true),
            },
            Ok(Upserted::Updated(id)) => Outcome::Saved {
                id,
                created: Some(false),
            },
            Err(UpsertError::Multiple(ids)) => Outcome::failed(
                None,
                FieldError::new(
                    "DUPLICATE_EXTERNAL_ID",
                    format!(
                        "{}: more than one record found for external id field: {}",
                        field.name,
                        ids.join(",")
                    ),
                    &[&field.name],
                ),
            ),
            Err(UpsertError::Invalid(e)) => Outcome::failed(None, e),
        },
        Op::Delete { object, id } => match txn.delete(object, &id) {
            Ok(()) => Outcome::Saved { id, created: None },
            Err(e) => Outcome::failed(Some(id), e),
        },
    }
}

/// The id a result reports for an operation that did not save (updates and deletes).
fn known_id(op: &Op<'_>) -> Option<String> {
    match op {
        Op::Update { id, .. } | Op::Delete { id, .. } => Some(id.clone()),
        Op::Insert { .. } | Op::Upsert { .. } => None,
    }
}

/// Records planned for the transaction, by input position.
type Pending<'o> = Vec<(usize, Planned<'o>)>;

/// Runs a planned call as one transaction and returns the results in input order.
pub(super) async fn run(
    txn: &mut Txn<'_>,
    plans: Vec<Plan<'_>>,
    all_or_none: bool,
) -> Vec<Outcome> {
    let savepoint = txn.savepoint();
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(plans.len());
    let mut ids: Vec<Option<String>> = Vec::with_capacity(plans.len());
    let mut pending = Pending::new();
    for (i, plan) in plans.into_iter().enumerate() {
        match plan {
            Ok(planned) => {
                ids.push(known_id(&planned.op));
                outcomes.push(None);
                pending.push((i, planned));
            }
            Err(outcome) => {
                ids.push(None);
                outcomes.push(Some(outcome));
            }
        }
    }
    let mut halted = all_or_none && outcomes.iter().any(Option::is_some);
    if !halted {
        match lock_pending(txn, pending, &mut outcomes, all_or_none).await {
            Some(ready) => {
                txn.process(ready.len()).await;
                for (i, planned) in ready {
                    outcomes[i] = Some(apply(txn, planned.op));
                }
            }
            None => halted = true,
        }
    }
    let failed = halted || outcomes.iter().flatten().any(Outcome::is_failure);
    if all_or_none && failed {
        txn.rollback_to(savepoint);
    }
    outcomes
        .into_iter()
        .zip(ids)
        .map(|(outcome, id)| match outcome {
            Some(Outcome::Saved { id, .. }) if all_or_none && failed => {
                Outcome::failed(Some(id), rolled_back())
            }
            Some(outcome) => outcome,
            None => Outcome::failed(id, rolled_back()),
        })
        .collect()
}

/// Locks the rows of every pending record and returns the records that hold their locks.
/// Records whose rows stay busy past the lock wait fail with `UNABLE_TO_LOCK_ROW`; the
/// others are locked again (partial save), or, all-or-none, nothing is applied (`None`).
async fn lock_pending<'o>(
    txn: &mut Txn<'_>,
    mut pending: Pending<'o>,
    outcomes: &mut [Option<Outcome>],
    all_or_none: bool,
) -> Option<Pending<'o>> {
    for _ in 0..LOCK_ATTEMPTS {
        let rows: Vec<String> = pending
            .iter()
            .flat_map(|(_, p)| p.rows.iter().cloned())
            .collect();
        let Err(timeout) = txn.lock(rows).await else {
            return Some(pending);
        };
        let error = lock_error(&timeout);
        let (culprits, rest): (Pending<'o>, Pending<'o>) = pending
            .into_iter()
            .partition(|(_, p)| p.rows.iter().any(|r| timeout.rows.contains(r)));
        for (i, planned) in &culprits {
            outcomes[*i] = Some(Outcome::failed(known_id(&planned.op), error.clone()));
        }
        if all_or_none {
            return None;
        }
        pending = rest;
    }
    let error = FieldError::new(
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record",
        &[],
    );
    for (i, planned) in &pending {
        outcomes[*i] = Some(Outcome::failed(known_id(&planned.op), error.clone()));
    }
    Some(Pending::new())
}

/// The 200 answer: results in input order; every failed record counts as an error of its code.
pub(super) fn answer(org: &Org, outcomes: Vec<Outcome>) -> Reply {
    for outcome in &outcomes {
        if let Outcome::Failed { error, .. } = outcome {
            org.stats.count_error(&error.code);
        }
    }
    Reply::ok(outcomes.iter().map(Outcome::to_json).collect())
}
