//! The linear memory of all of a server's instances together
//! (`limits.total_memory`): each instance may grow to `limits.memory`, but
//! a thousand instances of 128 MiB would be 125 GiB, so the server also
//! keeps one account of what its instances hold. A request that arrives
//! while the account is full is answered 503 before an instance is made;
//! an instance that would grow past it traps with [`TotalMemoryExhausted`],
//! which the request path also answers 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{ResourceLimiter, Result, StoreLimits};

/// The linear memory a server's instances hold, against its cap.
#[derive(Debug)]
pub struct MemoryAccount {
    cap: AtomicU64,
    held: AtomicU64,
}

impl MemoryAccount {
    pub fn new(cap: u64) -> Arc<MemoryAccount> {
        Arc::new(MemoryAccount { cap: AtomicU64::new(cap), held: AtomicU64::new(0) })
    }

    pub fn cap(&self) -> u64 {
        self.cap.load(Ordering::Relaxed)
    }

    /// A reload's new cap; what instances hold stays counted.
    pub fn set_cap(&self, cap: u64) {
        self.cap.store(cap, Ordering::Relaxed);
    }

    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Whether a new instance may start: something is left of the cap.
    pub fn has_room(&self) -> bool {
        self.held() < self.cap()
    }

    /// Takes `bytes` from the account, unless that would pass the cap.
    fn take(&self, bytes: u64) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|total| *total <= self.cap())
            })
            .is_ok()
    }

    fn give_back(&self, bytes: u64) {
        self.held.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// Half the machine's memory: the default `limits.total_memory`, so that
/// guests alone cannot take the host down (`u64::MAX` when it cannot be
/// read).
pub fn default_total() -> u64 {
    // SAFETY: sysconf only reads system configuration.
    let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    match (u64::try_from(pages), u64::try_from(page)) {
        (Ok(pages), Ok(page)) if pages > 0 && page > 0 => pages.saturating_mul(page) / 2,
        _ => u64::MAX,
    }
}

/// Growth refused because the server's instances together hold
/// `limits.total_memory`.
#[derive(Debug, Clone, Copy)]
pub struct TotalMemoryExhausted {
    pub cap: u64,
}

impl std::fmt::Display for TotalMemoryExhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the instances together hold `limits.total_memory` ({} bytes)", self.cap)
    }
}

impl std::error::Error for TotalMemoryExhausted {}

/// One store's limits: Wasmtime's per-instance ones, then the server's
/// account (when it has one), which gets back what the store held when
/// the store is dropped.
pub struct Limiter {
    pub limits: StoreLimits,
    account: Option<Arc<MemoryAccount>>,
    held: u64,
}

impl Limiter {
    pub fn new(limits: StoreLimits, account: Option<Arc<MemoryAccount>>) -> Limiter {
        Limiter { limits, account, held: 0 }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool> {
        if !self.limits.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        let Some(account) = &self.account else { return Ok(true) };
        let more = desired.saturating_sub(current) as u64;
        if !account.take(more) {
            return Err(wasmtime::Error::new(TotalMemoryExhausted { cap: account.cap() }));
        }
        self.held += more;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        if let Some(account) = &self.account {
            account.give_back(self.held);
        }
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::StoreLimitsBuilder;

    use super::*;

    const PAGE: usize = 64 * 1024;

    #[test]
    fn instances_share_one_account_and_give_back_what_they_held() {
        let account = MemoryAccount::new(4 * PAGE as u64);
        let limiter = || Limiter::new(StoreLimitsBuilder::new().memory_size(3 * PAGE).build(), Some(account.clone()));
        let (mut a, mut b) = (limiter(), limiter());
        assert!(a.memory_growing(0, 2 * PAGE, None).unwrap());
        assert!(b.memory_growing(0, PAGE, None).unwrap());
        assert_eq!(account.held(), 3 * PAGE as u64);
        // Past the instance's own limit: refused by it, the account untouched.
        assert!(!a.memory_growing(2 * PAGE, 4 * PAGE, None).unwrap());
        // Past the account: a trap that names it.
        let err = b.memory_growing(PAGE, 3 * PAGE, None).unwrap_err();
        assert!(err.downcast_ref::<TotalMemoryExhausted>().is_some(), "{err}");
        assert!(b.memory_growing(PAGE, 2 * PAGE, None).unwrap());
        assert!(!account.has_room());
        drop(a);
        assert_eq!(account.held(), 2 * PAGE as u64);
        assert!(account.has_room());
        drop(b);
        assert_eq!(account.held(), 0);
    }
}
