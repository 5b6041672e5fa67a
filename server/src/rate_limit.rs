//! Per-device rate limiting: a fixed one-minute window per device, counted
//! in memory.
//!
//! Only authenticated requests are counted, so the table holds at most one
//! entry per enrolled device that was active in the current minute; entries
//! of past minutes are dropped when a new minute starts. (Several servers
//! behind one database each count on their own; a shared limit would live in
//! the storage.)

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use lynchpin_core::DeviceId;

const WINDOW_MS: u64 = 60_000;

/// Counts requests per device in fixed one-minute windows.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    state: Mutex<Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    /// The minute (unix milliseconds / 60,000) the counts belong to.
    minute: u64,
    counts: HashMap<DeviceId, u32>,
}

impl RateLimiter {
    /// A limiter that allows `per_minute` requests per device per minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            state: Mutex::new(Windows::default()),
        }
    }

    /// Counts a request from `device` at `now_ms`. `Err` holds the seconds
    /// until the device may try again (at least 1) if it is over its limit;
    /// a refused request is not counted.
    pub fn check(&self, device: &DeviceId, now_ms: u64) -> Result<(), u64> {
        let minute = now_ms / WINDOW_MS;
        // The map holds plain counters: a panic elsewhere cannot leave it
        // inconsistent, so a poisoned lock is still good to use.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.minute != minute {
            state.minute = minute;
            state.counts.clear();
        }
        let count = state.counts.entry(*device).or_insert(0);
        if *count >= self.per_minute {
            let window_end = (minute + 1).saturating_mul(WINDOW_MS);
            return Err(window_end.saturating_sub(now_ms).div_ceil(1000).max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(byte: u8) -> DeviceId {
        DeviceId::from_slice(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_device_gets_its_quota_per_minute_and_no_more() {
        let limiter = RateLimiter::new(3);
        let start = 120_000; // the start of a minute
        for i in 0..3 {
            assert_eq!(limiter.check(&device(1), start + i), Ok(()));
        }
        assert_eq!(limiter.check(&device(1), start + 10), Err(60));
        assert_eq!(limiter.check(&device(1), start + 59_001), Err(1));
        assert_eq!(limiter.check(&device(1), start + 30_500), Err(30));
        // Other devices have their own quota.
        assert_eq!(limiter.check(&device(2), start + 100), Ok(()));
        // The next minute starts afresh.
        for i in 0..3 {
            assert_eq!(limiter.check(&device(1), start + 60_000 + i), Ok(()));
        }
        assert!(limiter.check(&device(1), start + 60_010).is_err());
    }

    #[test]
    fn past_minutes_are_forgotten() {
        let limiter = RateLimiter::new(1);
        for byte in 0..50 {
            limiter.check(&device(byte), 0).unwrap();
        }
        limiter.check(&device(1), 60_000).unwrap();
        let state = limiter.state.lock().unwrap();
        assert_eq!(state.counts.len(), 1);
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let limiter = RateLimiter::new(0);
        assert!(limiter.check(&device(1), 1).is_err());
    }
}
