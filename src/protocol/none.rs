//! `none`: decisions only, no communication. The control condition.

use super::{PromptSection, Protocol, ProtocolKind, YearContext};
use crate::agents::{Agent, AgentError};
use crate::engine::GameParams;
use crate::question::RequestKind;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `none` has no switches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoneSpec {}

impl ProtocolKind for NoneSpec {
    fn kind(&self) -> &'static str {
        "none"
    }

    fn build(&self, _rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(NoProtocol)
    }

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        vec![(RequestKind::Decision, 1.0)]
    }

    fn prompt_section(&self) -> PromptSection {
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_none.md"),
            facts: Vec::new(),
        }
    }
}

pub struct NoProtocol;

#[async_trait]
impl Protocol for NoProtocol {
    async fn before_decision(
        &mut self,
        _year: &mut YearContext,
        _agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        Ok(())
    }
}
