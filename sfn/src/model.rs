//! The bridge to the shared ASL model (crate `asl`): a definition is read with the model and checked
//! by its static validation before anything runs.

use serde_json::Value;

use crate::error::DefinitionError;

/// Read the definition with the `asl` model; its refusals are definition errors.
pub(crate) fn check(value: &Value) -> Result<(), DefinitionError> {
    let machine: asl::StateMachine =
        serde_json::from_value(value.clone()).map_err(|e| DefinitionError::Model(e.to_string()))?;
    asl::validate(&machine, &asl::ValidationContext::new()).map_err(|errors| {
        DefinitionError::Invalid(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}
