//! The bounded wait queue: callers waiting for a concurrency slot, by priority then arrival.
//!
//! Entries are keyed `(priority, sequence)` in a `BTreeMap`, so iteration order *is* service
//! order: all `Critical` callers before any `Normal`, first come first served within one class.
//! Granting skips over entries whose lane is full (a long-running request waiting for the
//! long-running lane does not block short calls behind it).
//!
//! Rejected alternative: a `BinaryHeap`. It cannot remove a cancelled caller from the middle, and
//! a caller that gave up must leave the queue at once or the bound counts ghosts.

use std::collections::BTreeMap;

use tokio::sync::oneshot;

use super::class::{CostClass, Priority};

/// A position in the queue.
pub(crate) type Key = (Priority, u64);

/// One waiting caller: what it needs and where to send its grant.
#[derive(Debug)]
pub(crate) struct Waiter<T> {
    pub(crate) class: CostClass,
    pub(crate) reply: oneshot::Sender<T>,
}

/// Waiting callers in service order, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct WaitQueue<T> {
    entries: BTreeMap<Key, Waiter<T>>,
    next: u64,
    capacity: usize,
}

impl<T> WaitQueue<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        WaitQueue {
            entries: BTreeMap::new(),
            next: 0,
            capacity,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Queues a caller; `None` when the queue is full.
    pub(crate) fn push(&mut self, priority: Priority, waiter: Waiter<T>) -> Option<Key> {
        if self.entries.len() >= self.capacity {
            return None;
        }
        let key = (priority, self.next);
        self.next += 1;
        self.entries.insert(key, waiter);
        Some(key)
    }

    /// Removes a caller that stopped waiting; whether it was still queued.
    pub(crate) fn remove(&mut self, key: Key) -> bool {
        self.entries.remove(&key).is_some()
    }

    /// Takes the first waiter, in service order, whose class `fits`.
    pub(crate) fn take_first(&mut self, fits: impl Fn(CostClass) -> bool) -> Option<Waiter<T>> {
        let key = *self.entries.iter().find(|(_, w)| fits(w.class))?.0;
        self.entries.remove(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(class: CostClass) -> (Waiter<u32>, oneshot::Receiver<u32>) {
        let (reply, rx) = oneshot::channel();
        (Waiter { class, reply }, rx)
    }

    #[test]
    fn serves_by_priority_then_arrival() {
        let mut queue = WaitQueue::new(10);
        for (i, priority) in [
            Priority::Background,
            Priority::Normal,
            Priority::Critical,
            Priority::Normal,
        ]
        .into_iter()
        .enumerate()
        {
            let (w, _) = waiter(CostClass::Normal);
            let key = queue.push(priority, w).expect("room");
            assert_eq!(key, (priority, i as u64));
        }
        let order: Vec<Priority> = std::iter::from_fn(|| {
            let first = *queue.entries.keys().next()?;
            queue.remove(first).then_some(first.0)
        })
        .collect();
        assert_eq!(
            order,
            [
                Priority::Critical,
                Priority::Normal,
                Priority::Normal,
                Priority::Background
            ]
        );
    }

    #[test]
    fn a_full_queue_refuses_and_removal_frees_room() {
        let mut queue = WaitQueue::new(1);
        let key = queue
            .push(Priority::Normal, waiter(CostClass::Normal).0)
            .expect("room");
        assert!(queue
            .push(Priority::Critical, waiter(CostClass::Normal).0)
            .is_none());
        assert!(queue.remove(key));
        assert!(!queue.remove(key));
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn take_first_skips_waiters_whose_lane_is_full() {
        let mut queue = WaitQueue::new(10);
        queue.push(Priority::Critical, waiter(CostClass::LongRunning).0);
        queue.push(Priority::Background, waiter(CostClass::Normal).0);
        let taken = queue
            .take_first(|class| class == CostClass::Normal)
            .expect("a short call");
        assert_eq!(taken.class, CostClass::Normal);
        assert_eq!(queue.len(), 1);
    }
}
