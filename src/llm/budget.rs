//! `[budget]`: sweep-wide limits on calls, tokens and cost, shared by all runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::config::BudgetConfig;

/// A cheap-to-clone handle on the sweep's spending. Calls check [`Budget::check`] before
/// asking a live model and [`Budget::charge`] after; the runner checks
/// [`Budget::exhausted`] before starting a year or a run.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    max_calls: Option<u64>,
    max_tokens: Option<u64>,
    max_cost_micro: Option<u64>,
    calls: AtomicU64,
    tokens: AtomicU64,
    cost_micro: AtomicU64,
}

impl Budget {
    pub fn new(cfg: &BudgetConfig) -> Budget {
        Budget {
            inner: Arc::new(Inner {
                max_calls: cfg.max_calls,
                max_tokens: cfg.max_tokens,
                max_cost_micro: cfg.max_cost_usd.map(|c| (c * 1e6).round().max(0.0) as u64),
                ..Inner::default()
            }),
        }
    }

    /// A budget with no limits.
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    /// Why the budget is exhausted, if it is.
    pub fn exhausted(&self) -> Option<String> {
        let i = &self.inner;
        let over = |used: &AtomicU64, max: Option<u64>| {
            max.is_some_and(|m| used.load(Ordering::SeqCst) >= m)
        };
        if over(&i.calls, i.max_calls) {
            return Some(format!("max_calls = {} reached", i.max_calls.unwrap_or(0)));
        }
        if over(&i.tokens, i.max_tokens) {
            return Some(format!(
                "max_tokens = {} reached",
                i.max_tokens.unwrap_or(0)
            ));
        }
        if over(&i.cost_micro, i.max_cost_micro) {
            return Some(format!(
                "max_cost_usd = {:.6} reached",
                i.max_cost_micro.unwrap_or(0) as f64 / 1e6
            ));
        }
        None
    }

    /// `Err(reason)` when no further live call may start.
    pub fn check(&self) -> Result<(), String> {
        match self.exhausted() {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Records one live call.
    pub fn charge(&self, tokens: u64, cost_micro: u64) {
        self.inner.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.tokens.fetch_add(tokens, Ordering::SeqCst);
        self.inner
            .cost_micro
            .fetch_add(cost_micro, Ordering::SeqCst);
    }

    /// (calls, tokens, cost in micro-USD) spent so far.
    pub fn spent(&self) -> (u64, u64, u64) {
        let i = &self.inner;
        (
            i.calls.load(Ordering::SeqCst),
            i.tokens.load(Ordering::SeqCst),
            i.cost_micro.load(Ordering::SeqCst),
        )
    }
}
