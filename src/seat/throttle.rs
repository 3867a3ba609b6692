//! The join-code throttle: a computer that guesses codes waits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Wrong join codes one client may try in a minute; then every join request of that
/// client waits out the minute (a code has 30 bits: guessing one takes years).
pub const JOIN_FAILURES: u32 = 20;

/// Join-code failures per client.
#[derive(Default)]
pub struct Throttle(Mutex<HashMap<IpAddr, (u32, Instant)>>);

impl Throttle {
    const WINDOW: Duration = Duration::from_secs(60);
    /// Clients tracked at once; past it, expired entries are dropped first.
    const TRACKED: usize = 4096;

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seconds `client` must wait before trying a join code again (`None`: it may).
    pub fn wait(&self, client: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let map = self.map();
        let (failures, since) = map.get(&client)?;
        let left = (*since + Self::WINDOW).saturating_duration_since(now);
        (*failures >= JOIN_FAILURES && !left.is_zero()).then(|| left.as_secs().max(1))
    }

    /// `client` tried a wrong code.
    pub fn failed(&self, client: IpAddr) {
        let now = Instant::now();
        let mut map = self.map();
        if map.len() >= Self::TRACKED && !map.contains_key(&client) {
            map.retain(|_, (_, since)| now.saturating_duration_since(*since) < Self::WINDOW);
        }
        let entry = map.entry(client).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= Self::WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wrong_join_codes_are_throttled_per_client_for_a_minute() {
        let t = Throttle::default();
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        for _ in 0..JOIN_FAILURES - 1 {
            t.failed(a);
        }
        assert_eq!(t.wait(a), None, "mistyping a few times is fine");
        t.failed(a);
        assert_eq!(t.wait(a), Some(60));
        assert_eq!(t.wait(b), None, "another computer is not held up");
        tokio::time::advance(Duration::from_secs(45)).await;
        assert_eq!(t.wait(a), Some(15));
        tokio::time::advance(Duration::from_secs(16)).await;
        assert_eq!(t.wait(a), None);
        t.failed(a);
        assert_eq!(t.wait(a), None, "a new window starts from one failure");
    }
}
