//! Choosing what goes into one call: a group's oldest ready writes, at most one per key.
//!
//! Writes are grouped per (object, operation, external id field) — the journal's
//! [`GroupKey`](super::journal::GroupKey) — because one collections call carries one
//! operation (and, for upserts, one external id field). Within a group, [`pick`] walks the
//! ready writes in acceptance order and builds a batch of at most `limit`:
//!
//! - A key that is in flight is skipped: a second write to it waits for the first to settle,
//!   so writes to one key reach Salesforce in order, never racing in parallel calls.
//! - With collapse on, a later write to a key already in the batch merges into it (its fields
//!   override the earlier ones; fields only the earlier write set are kept, so the result is
//!   what sending both in order would have left) and the earlier write is `Superseded` by the
//!   later ticket. With collapse off, the later write waits for the next batch.
//!   Salesforce refuses one external id twice in one upsert call anyway.
//! - A write marked solo (its batch was refused as a whole) is sent alone, when it comes first.
//!
//! Writes without a key (inserts without one) never collapse. A key written with two
//! operations (update, then delete of one `Id`) spans two groups; the journal holds the later
//! operation's write back until the earlier one settles (`Journal::candidates`), so ordering
//! per key holds across operations too.

use std::collections::HashMap;

use super::item::Item;
use super::outcome::Ticket;

/// A batch and the writes it replaced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Picked {
    /// The writes to send, each the latest (merged) write of its key.
    pub batch: Vec<Item>,
    /// Writes folded into a later one: `(write, the ticket that replaced it)`.
    pub superseded: Vec<(Item, Ticket)>,
}

/// Builds one batch from `candidates` (ready writes of one group, oldest first); see the
/// module docs. `busy` says whether a key has a write in flight.
pub fn pick(
    candidates: Vec<Item>,
    limit: usize,
    collapse: bool,
    busy: impl Fn(&str) -> bool,
) -> Picked {
    let mut picked = Picked::default();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for item in candidates {
        if item.solo {
            if picked.batch.is_empty() {
                picked.batch.push(item);
                break;
            }
            continue;
        }
        let Some(key) = item.key.clone() else {
            if picked.batch.len() < limit {
                picked.batch.push(item);
            }
            continue;
        };
        if busy(&key) {
            continue;
        }
        match by_key.get(&key) {
            Some(&at) if collapse => {
                let earlier = std::mem::replace(&mut picked.batch[at], item);
                let later = &mut picked.batch[at];
                let mut record = earlier.record.clone();
                record.extend(std::mem::take(&mut later.record));
                later.record = record;
                picked.superseded.push((earlier, Ticket(later.seq)));
            }
            Some(_) => {}
            None if picked.batch.len() < limit => {
                by_key.insert(key, picked.batch.len());
                picked.batch.push(item);
            }
            None => {}
        }
    }
    // A chain a → b → c reports both a and b as replaced by c.
    let winner: HashMap<&str, Ticket> = picked
        .batch
        .iter()
        .filter_map(|i| Some((i.key.as_deref()?, Ticket(i.seq))))
        .collect();
    let resolved = picked
        .superseded
        .iter()
        .map(|(item, by)| {
            *item
                .key
                .as_deref()
                .and_then(|k| winner.get(k))
                .unwrap_or(by)
        })
        .collect::<Vec<_>>();
    for ((_, by), resolved) in picked.superseded.iter_mut().zip(resolved) {
        *by = resolved;
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::item::WriteOp;
    use serde_json::json;

    fn item(seq: u64, key: Option<&str>, fields: serde_json::Value) -> Item {
        Item {
            seq,
            object: "Account".into(),
            op: WriteOp::upsert("External_Id__c"),
            key: key.map(str::to_owned),
            record: fields.as_object().unwrap().clone(),
            attempts: 0,
            solo: false,
        }
    }

    fn seqs(items: &[Item]) -> Vec<u64> {
        items.iter().map(|i| i.seq).collect()
    }

    #[test]
    fn t3_later_writes_to_a_key_merge_into_the_batch_and_supersede_the_earlier_ones() {
        let candidates = vec![
            item(1, Some("a"), json!({"Name": "one", "Phone": "1"})),
            item(2, Some("b"), json!({"Name": "b"})),
            item(3, Some("a"), json!({"Name": "two"})),
            item(4, Some("a"), json!({"Name": "three"})),
        ];
        let picked = pick(candidates, 200, true, |_| false);
        assert_eq!(seqs(&picked.batch), vec![4, 2]);
        assert_eq!(
            picked.batch[0].record,
            json!({"Name": "three", "Phone": "1"})
                .as_object()
                .unwrap()
                .clone()
        );
        let replaced: Vec<(u64, Ticket)> = picked
            .superseded
            .iter()
            .map(|(i, by)| (i.seq, *by))
            .collect();
        assert_eq!(replaced, vec![(1, Ticket(4)), (3, Ticket(4))]);
    }

    #[test]
    fn without_collapse_a_key_appears_once_per_batch_and_later_writes_wait() {
        let candidates = vec![
            item(1, Some("a"), json!({})),
            item(2, Some("a"), json!({})),
            item(3, Some("b"), json!({})),
        ];
        let picked = pick(candidates, 200, false, |_| false);
        assert_eq!(seqs(&picked.batch), vec![1, 3]);
        assert!(picked.superseded.is_empty());
    }

    #[test]
    fn t2_keys_in_flight_are_skipped_and_the_limit_holds() {
        let candidates = (1..=5)
            .map(|n| item(n, Some(&format!("k{n}")), json!({})))
            .collect();
        let picked = pick(candidates, 2, true, |k| k == "k1");
        assert_eq!(seqs(&picked.batch), vec![2, 3]);
        let keyless = (1..=5).map(|n| item(n, None, json!({}))).collect();
        assert_eq!(
            seqs(&pick(keyless, 3, true, |_| false).batch),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn t8_solo_writes_go_alone() {
        let mut first = item(1, Some("a"), json!({}));
        first.solo = true;
        let picked = pick(
            vec![first.clone(), item(2, Some("b"), json!({}))],
            200,
            true,
            |_| false,
        );
        assert_eq!(seqs(&picked.batch), vec![1]);
        let picked = pick(
            vec![item(2, Some("b"), json!({})), first],
            200,
            true,
            |_| false,
        );
        assert_eq!(seqs(&picked.batch), vec![2]);
    }
}
