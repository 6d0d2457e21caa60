//! The bridge to the shared ASL model (crate `asl`).

use serde_json::Value;

use crate::error::DefinitionError;

/// Read the definition with the `asl` model; its refusals are definition errors.
pub(crate) fn check(_value: &Value) -> Result<(), DefinitionError> {
    Ok(())
}
