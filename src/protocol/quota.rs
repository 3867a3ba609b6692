//! `quota`: negotiated total allowable catch (TAC).
//!
//! Every `every_years` years: optional talk rounds, then every team proposes a TAC for the
//! year about to be played; the harness publishes the proposals and their median; every
//! team votes on the median, which is adopted when the accept share reaches `approval`.
//! The TAC is split into team quotas and holds until the next negotiation.

use super::broadcast::talk;
use super::{
    ask_all, Allocation, Enforcement, MessageOrder, OnReject, Protocol, QuotaConfig, YearContext,
};
use crate::agents::{Agent, AgentError, Observation, QuotaBoard, QuotaViolation};
use crate::engine::YearOutcome;
use crate::record::Event;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;

pub struct QuotaProtocol {
    config: QuotaConfig,
    rng: ChaCha8Rng,
    /// The TAC in force (adopted at the last negotiation, or carried over).
    tac: Option<i64>,
    /// Advisory quotas broken last year.
    violations: Vec<QuotaViolation>,
}

impl QuotaProtocol {
    pub fn new(config: QuotaConfig, rng: ChaCha8Rng) -> Self {
        QuotaProtocol {
            config,
            rng,
            tac: None,
            violations: Vec::new(),
        }
    }

    fn negotiates_in(&self, year: u32) -> bool {
        (year - 1).is_multiple_of(self.config.every_years.max(1))
    }

    async fn negotiate(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let y = year.year;
        talk(
            year,
            agents,
            self.config.talk_rounds,
            MessageOrder::Simultaneous,
            self.config.max_message_chars,
            &mut self.rng,
        )
        .await?;

        year.events.push(Event::Phase {
            year: y,
            phase: "proposal".into(),
        });
        let observations = year.observations();
        let proposals: Vec<i64> = ask_all(agents, &observations, |a, o| a.propose(o))
            .await?
            .into_iter()
            .map(|p| p.max(0))
            .collect();
        for (team, &tac) in proposals.iter().enumerate() {
            year.events.push(Event::Proposal { year: y, team, tac });
        }
        let median = median(&proposals);
        if let Some(board) = year.board.quota.as_mut() {
            board.proposals = Some(proposals);
            board.median = median;
        }

        year.events.push(Event::Phase {
            year: y,
            phase: "vote".into(),
        });
        let observations = year.observations();
        let votes = ask_all(agents, &observations, |a, o| a.vote(o)).await?;
        let accepts = votes.iter().filter(|v| v.accept).count();
        for (team, vote) in votes.into_iter().enumerate() {
            year.events.push(Event::Vote {
                year: y,
                team,
                vote,
            });
        }
        let accept_share = accepts as f64 / agents.len().max(1) as f64;
        let adopted = median.is_some() && accept_share >= self.config.approval;
        self.tac = match (adopted, self.config.on_reject) {
            (true, _) => median,
            (false, OnReject::Previous) => self.tac,
            (false, OnReject::None) => None,
        };
        year.events.push(Event::QuotaOutcome {
            year: y,
            median,
            accept_share,
            adopted,
            tac: self.tac,
            quotas: allocate(self.tac, self.config.allocation, &year.base),
        });
        Ok(())
    }
}

#[async_trait]
impl Protocol for QuotaProtocol {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let binding = self.config.enforcement == Enforcement::Binding;
        year.board.messages.clear();
        year.board.quota = Some(QuotaBoard {
            binding,
            violations_last_year: std::mem::take(&mut self.violations),
            tac: self.tac,
            ..QuotaBoard::default()
        });
        if self.negotiates_in(year.year) {
            self.negotiate(year, agents).await?;
        }
        year.quotas = allocate(self.tac, self.config.allocation, &year.base);
        year.quotas_binding = binding;
        if let Some(board) = year.board.quota.as_mut() {
            board.tac = self.tac;
        }
        Ok(())
    }

    async fn after_year(
        &mut self,
        year: &mut YearContext,
        outcome: &YearOutcome,
        _after: &[Observation],
        _agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        if self.config.enforcement == Enforcement::Advisory {
            for (team, (quota, out)) in year.quotas.iter().zip(&outcome.teams).enumerate() {
                let catch = out.catch_deep + out.catch_coast;
                if let Some(quota) = *quota {
                    if catch > quota {
                        let v = QuotaViolation {
                            year: year.year,
                            team,
                            quota,
                            catch,
                        };
                        year.events.push(Event::QuotaViolation {
                            year: year.year,
                            team,
                            quota,
                            catch,
                        });
                        self.violations.push(v);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Median of the proposals, floored to whole fish (the mean of the middle two for an even
/// count).
fn median(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]).div_euclid(2)
    })
}

/// Split a TAC into team quotas (ships as at the start of the year).
fn allocate(tac: Option<i64>, allocation: Allocation, base: &[Observation]) -> Vec<Option<i64>> {
    let n = base.len() as i64;
    let Some(tac) = tac else {
        return vec![None; base.len()];
    };
    match allocation {
        Allocation::Equal => vec![Some(tac / n.max(1)); base.len()],
        Allocation::Fleet => {
            let total: i64 = base.iter().map(|o| o.own.ships as i64).sum();
            base.iter()
                .map(|o| {
                    Some(if total > 0 {
                        tac * o.own.ships as i64 / total
                    } else {
                        0
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_even_count_is_floored_mean_of_middle_two() {
        assert_eq!(median(&[10, 1, 4, 7]), Some(5));
        assert_eq!(median(&[3, 1, 2]), Some(2));
        assert_eq!(median(&[]), None);
    }
}
