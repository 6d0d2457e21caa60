//! A definition accepted for running: checked once before any execution starts.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::error::DefinitionError;

/// A States Language definition the interpreter accepts (JSONPath only).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) root: Arc<Value>,
}

impl StateMachine {
    /// Parse and check a definition given as JSON text.
    pub fn from_json(text: &str) -> Result<Self, DefinitionError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| DefinitionError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Check a definition given as a JSON value.
    pub fn from_value(value: Value) -> Result<Self, DefinitionError> {
        // JSONata first: its error says plainly that the query language is not supported
        check_machine(&value, "the state machine")?;
        check_model(&value)?;
        Ok(StateMachine {
            root: Arc::new(value),
        })
    }

    /// The definition as JSON.
    pub fn definition(&self) -> &Value {
        &self.root
    }
}

/// The shared ASL model (crate `asl`) reads the definition: anything it refuses is refused here too.
fn check_model(value: &Value) -> Result<(), DefinitionError> {
    crate::model::check(value)
}

const STATE_TYPES: &[&str] = &[
    "Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

fn check_machine(machine: &Value, what: &str) -> Result<(), DefinitionError> {
    reject_jsonata(machine, what)?;
    let start_at = machine
        .get("StartAt")
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::Invalid(format!("{what} has no StartAt")))?;
    let states = machine
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| DefinitionError::Invalid(format!("{what} has no States object")))?;
    if !states.contains_key(start_at) {
        return Err(DefinitionError::Invalid(format!(
            "{what}: StartAt '{start_at}' names no state"
        )));
    }
    let names: HashSet<&str> = states.keys().map(String::as_str).collect();
    for (name, state) in states {
        reject_jsonata(state, &format!("state '{name}'"))?;
        let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
        if !STATE_TYPES.contains(&kind) {
            return Err(DefinitionError::Invalid(format!(
                "state '{name}' has an unknown Type '{kind}'"
            )));
        }
        let mut targets: Vec<&str> = Vec::new();
        if let Some(next) = state.get("Next").and_then(Value::as_str) {
            targets.push(next);
        }
        if let Some(default) = state.get("Default").and_then(Value::as_str) {
            targets.push(default);
        }
        for catcher in state
            .get("Catch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(next) = catcher.get("Next").and_then(Value::as_str) {
                targets.push(next);
            }
        }
        if kind == "Choice" {
            for rule in state
                .get("Choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(next) = rule.get("Next").and_then(Value::as_str) {
                    targets.push(next);
                }
            }
        }
        for target in targets {
            if !names.contains(target) {
                return Err(DefinitionError::Invalid(format!(
                    "state '{name}' goes to '{target}', which is not a state of {what}"
                )));
            }
        }
        let ends = matches!(kind, "Choice" | "Succeed" | "Fail")
            || state.get("End").and_then(Value::as_bool) == Some(true)
            || state.get("Next").is_some();
        if !ends {
            return Err(DefinitionError::Invalid(format!(
                "state '{name}' has neither Next nor End"
            )));
        }
        match kind {
            "Parallel" => {
                let branches =
                    state
                        .get("Branches")
                        .and_then(Value::as_array)
                        .ok_or_else(|| {
                            DefinitionError::Invalid(format!(
                                "Parallel state '{name}' has no Branches"
                            ))
                        })?;
                for (index, branch) in branches.iter().enumerate() {
                    check_machine(branch, &format!("branch {index} of '{name}'"))?;
                }
            }
            "Map" => {
                let processor = state
                    .get("ItemProcessor")
                    .or_else(|| state.get("Iterator"))
                    .ok_or_else(|| {
                        DefinitionError::Invalid(format!("Map state '{name}' has no ItemProcessor"))
                    })?;
                if processor
                    .pointer("/ProcessorConfig/Mode")
                    .and_then(Value::as_str)
                    == Some("DISTRIBUTED")
                    || state.get("ItemReader").is_some()
                {
                    return Err(DefinitionError::Invalid(format!(
                        "Map state '{name}': distributed Maps (ItemReader, Mode DISTRIBUTED) are not supported"
                    )));
                }
                check_machine(processor, &format!("the item processor of '{name}'"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn reject_jsonata(node: &Value, what: &str) -> Result<(), DefinitionError> {
    match node.get("QueryLanguage").and_then(Value::as_str) {
        Some("JSONata") => Err(DefinitionError::Jsonata(format!(
            "{what} sets QueryLanguage to JSONata"
        ))),
        Some("JSONPath") | None => Ok(()),
        Some(other) => Err(DefinitionError::Invalid(format!(
            "{what}: unknown QueryLanguage '{other}'"
        ))),
    }
}
