//! Static validation (in progress).

use std::collections::BTreeSet;

use crate::model::StateMachine;

/// What the caller knows about the world the definition runs in.
#[derive(Debug, Clone, Default)]
pub struct ValidationContext {
    pub functions: BTreeSet<String>,
}

impl ValidationContext {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_function(mut self, reference: impl Into<String>) -> Self {
        self.functions.insert(reference.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{state}: {message}")]
pub struct ValidationError {
    pub state: String,
    pub message: String,
}

pub fn validate(
    _machine: &StateMachine,
    _context: &ValidationContext,
) -> Result<(), Vec<ValidationError>> {
    Ok(())
}
