//! A queue bounded by bytes, not items: a 1080p frame is 6 MB and a
//! 240p one 0.2 MB, so a count that is right for one is wrong for the
//! other. One item always fits an empty queue, however large.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

/// The most frame bytes waiting between the decoder and the prepare stage:
/// one 1080p frame (6 MB; one item always fits), or two 640×480 ones. The
/// model sets the pace, not the queue: on a 1080p clip with the default
/// model, a queue of one frame scored as fast as one of three (measured),
/// and eight 640×480 frames waiting held 3 MiB more at peak than two.
pub const QUEUE_BYTES: usize = 2 << 20;

/// The most frame bytes the prepare stage gathers into one batch: one
/// 1080p frame, or eight 640×480 ones for a model that takes batches.
pub const BATCH_BYTES: usize = 8 << 20;

pub struct ByteQueue<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    limit: usize,
}

struct State<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    sender_done: bool,
    receiver_gone: bool,
}

impl<T> ByteQueue<T> {
    pub fn new(limit: usize) -> Self {
        let state = State { items: VecDeque::new(), bytes: 0, sender_done: false, receiver_gone: false };
        Self { state: Mutex::new(state), changed: Condvar::new(), limit }
    }

    /// Waits for room, then queues `item`; `false` once the receiver has gone.
    pub fn send(&self, item: T, bytes: usize) -> bool {
        let mut state = self.wait_for_room(bytes);
        if state.receiver_gone {
            return false;
        }
        state.bytes += bytes;
        state.items.push_back((item, bytes));
        self.changed.notify_all();
        true
    }

    /// Waits until `bytes` more would fit (the sole sender can then make
    /// the item and send it without waiting); `false` once the receiver has
    /// gone.
    pub fn room_for(&self, bytes: usize) -> bool {
        !self.wait_for_room(bytes).receiver_gone
    }

    fn wait_for_room(&self, bytes: usize) -> std::sync::MutexGuard<'_, State<T>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.receiver_gone && state.bytes > 0 && state.bytes + bytes > self.limit {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
    }

    /// The next item, or `None` once the sender is done and the queue empty.
    pub fn recv(&self) -> Option<T> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some((item, bytes)) = state.items.pop_front() {
                state.bytes -= bytes;
                self.changed.notify_all();
                return Some(item);
            }
            if state.sender_done {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A guard that marks the sender done when dropped (also on error or panic).
    pub fn sender(&self) -> Closing<'_, T> {
        Closing { queue: self, sender: true }
    }

    /// A guard that marks the receiver gone when dropped: a waiting sender stops.
    pub fn receiver(&self) -> Closing<'_, T> {
        Closing { queue: self, sender: false }
    }
}

pub struct Closing<'a, T> {
    queue: &'a ByteQueue<T>,
    sender: bool,
}

impl<T> Drop for Closing<'_, T> {
    fn drop(&mut self) {
        let mut state = self.queue.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.sender {
            state.sender_done = true;
        } else {
            state.receiver_gone = true;
            state.items.clear();
            state.bytes = 0;
        }
        self.queue.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_bound_the_queue_and_one_large_item_always_fits() {
        let queue = ByteQueue::new(10);
        std::thread::scope(|scope| {
            let sent = scope.spawn(|| {
                let _done = queue.sender();
                for n in 0..20 {
                    assert!(queue.send(n, if n == 5 { 50 } else { 4 }));
                    let held = queue.state.lock().unwrap().bytes;
                    assert!(held <= 10 || held == 50, "{held} bytes held");
                }
            });
            let mut got = Vec::new();
            while let Some(n) = queue.recv() {
                got.push(n);
            }
            sent.join().unwrap();
            assert_eq!(got, (0..20).collect::<Vec<_>>());
        });
    }

    #[test]
    fn a_receiver_that_leaves_releases_a_waiting_sender() {
        let queue = ByteQueue::new(4);
        std::thread::scope(|scope| {
            let sender = scope.spawn(|| (0..100).take_while(|n| queue.send(*n, 4)).count());
            assert_eq!(queue.recv(), Some(0));
            drop(queue.receiver());
            assert!(sender.join().unwrap() < 100);
        });
    }

    #[test]
    fn room_is_promised_only_when_the_item_would_fit_and_never_after_the_receiver_left() {
        let queue = ByteQueue::new(10);
        assert!(queue.room_for(50), "an empty queue has room for any one item");
        assert!(queue.send(1, 8));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| queue.room_for(8));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!waiting.is_finished(), "8 more bytes do not fit beside 8 in 10");
            assert_eq!(queue.recv(), Some(1));
            assert!(waiting.join().unwrap(), "room once the first item has left");
        });
        let gone = ByteQueue::<u8>::new(1);
        assert!(gone.send(0, 1));
        drop(gone.receiver());
        assert!(!gone.room_for(1), "a receiver that has gone is never promised room");
    }
}
