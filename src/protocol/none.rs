//! `none`: decisions only, no communication. The control condition.

use super::{PromptSection, Protocol, YearContext};
use crate::agents::{Agent, AgentError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// `none` has no switches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoneSpec {}

pub(super) fn prompt_section() -> PromptSection {
    PromptSection {
        kind: "none",
        template: include_str!("../../prompts/protocol_none.md"),
        facts: Vec::new(),
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
