//! `[budget]`: sweep-wide limits on calls, tokens and cost, shared by all runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::config::BudgetConfig;

/// A cheap-to-clone handle on the sweep's spending. Live calls [`Budget::charge`] it; the
/// game loop asks [`Budget::exhausted`] before each year, so a year under way always
/// finishes.
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

    /// Records one live call.
    pub fn charge(&self, tokens: u64, cost_micro: u64) {
        self.inner.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.tokens.fetch_add(tokens, Ordering::SeqCst);
        self.inner
            .cost_micro
            .fetch_add(cost_micro, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::config::LlmSettings;
    use crate::llm::factory::{sample_observation, AgentFactory};
    use crate::llm::mock::Policy;
    use crate::llm::testutil::{decide, facts, mock_providers, obs, section, spec};
    use crate::llm::CacheMode;

    #[tokio::test]
    async fn live_calls_spend_the_budget_and_finish_the_year() {
        let budget = BudgetConfig {
            max_calls: Some(2),
            ..Default::default()
        };
        let f = AgentFactory::new(
            &mock_providers(Policy::Greedy, 0.0),
            &LlmSettings::default(),
            facts(),
            std::path::Path::new("/x"),
            CacheMode::Live,
            &budget,
        )
        .unwrap();
        let none = section("none");
        let mut a = f.llm_agent(&spec("r", 0, &none)).unwrap();
        decide(&mut a, &obs()).await.unwrap();
        assert!(f.budget().exhausted().is_none());
        decide(&mut a, &sample_observation(&facts(), 4))
            .await
            .unwrap();
        assert!(f.budget().exhausted().is_some());
        // A call already under way in the year finishes; the game loop stops the run at
        // the next year boundary (see the runner's budget test).
        decide(&mut a, &sample_observation(&facts(), 5))
            .await
            .unwrap();
        assert!(f.budget().exhausted().unwrap().contains("max_calls = 2"));
    }
}
