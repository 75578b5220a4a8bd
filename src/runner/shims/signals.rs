//! The signal queue behind `warpgrid:shim/signals`: one per deployment,
//! shared by every instance, bounded, and fed only the signals a guest has
//! asked for.

use std::collections::VecDeque;
use std::sync::Mutex;

/// The most signals held before the oldest is dropped.
pub const CAPACITY: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Hangup,
    Interrupt,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Terminate => "terminate",
            Signal::Hangup => "hangup",
            Signal::Interrupt => "interrupt",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What became of a delivered signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Queued,
    /// Queued, but the queue was full and the oldest signal was dropped.
    QueuedDroppingOldest(Signal),
    /// No guest asked for this signal.
    Unwanted,
}

#[derive(Debug, Default)]
pub struct Queue {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    wanted: [bool; 3],
    pending: VecDeque<Signal>,
}

impl Queue {
    /// Registers interest; true when it was not registered before.
    pub fn register(&self, signal: Signal) -> bool {
        let mut inner = self.inner.lock().unwrap();
        !std::mem::replace(&mut inner.wanted[signal.index()], true)
    }

    pub fn wants(&self, signal: Signal) -> bool {
        self.inner.lock().unwrap().wanted[signal.index()]
    }

    pub fn deliver(&self, signal: Signal) -> Delivery {
        let mut inner = self.inner.lock().unwrap();
        if !inner.wanted[signal.index()] {
            return Delivery::Unwanted;
        }
        let dropped = if inner.pending.len() == CAPACITY { inner.pending.pop_front() } else { None };
        inner.pending.push_back(signal);
        match dropped {
            Some(oldest) => Delivery::QueuedDroppingOldest(oldest),
            None => Delivery::Queued,
        }
    }

    pub fn poll(&self) -> Option<Signal> {
        self.inner.lock().unwrap().pending.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wanted_signals_are_queued_in_order() {
        let queue = Queue::default();
        assert_eq!(queue.deliver(Signal::Hangup), Delivery::Unwanted);
        assert!(queue.register(Signal::Hangup));
        assert!(!queue.register(Signal::Hangup));
        assert!(queue.register(Signal::Terminate));
        assert_eq!(queue.deliver(Signal::Interrupt), Delivery::Unwanted);
        assert_eq!(queue.deliver(Signal::Hangup), Delivery::Queued);
        assert_eq!(queue.deliver(Signal::Terminate), Delivery::Queued);
        assert_eq!(queue.poll(), Some(Signal::Hangup));
        assert_eq!(queue.poll(), Some(Signal::Terminate));
        assert_eq!(queue.poll(), None);
    }

    #[test]
    fn a_full_queue_drops_the_oldest() {
        let queue = Queue::default();
        queue.register(Signal::Hangup);
        queue.register(Signal::Terminate);
        for _ in 0..CAPACITY {
            assert_eq!(queue.deliver(Signal::Hangup), Delivery::Queued);
        }
        assert_eq!(queue.deliver(Signal::Terminate), Delivery::QueuedDroppingOldest(Signal::Hangup));
        let drained: Vec<_> = std::iter::from_fn(|| queue.poll()).collect();
        assert_eq!(drained.len(), CAPACITY);
        assert_eq!(drained.last(), Some(&Signal::Terminate));
    }
}
