//! `none`: decisions only, no communication. The control condition.

use super::{Protocol, YearContext};
use crate::agents::{Agent, AgentError};
use async_trait::async_trait;

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
