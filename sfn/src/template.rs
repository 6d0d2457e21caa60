//! Reading a state machine out of a CloudFormation template (YAML or JSON).
//!
//! The `AWS::StepFunctions::StateMachine` resource's `Definition` (an object) or `DefinitionString` (a
//! plain string) is taken, and every `${Name}` of its `DefinitionSubstitutions` is replaced by a
//! placeholder value: a plain string stays as written; a `Ref` or `Fn::GetAtt` to an
//! `AWS::Lambda::Function` becomes `arn:aws:lambda:us-east-1:123456789012:function:NAME`, where NAME is
//! the function's `FunctionName` when it is a plain string, else its `Metadata.BuildProperties.Binary`
//! (the cargo-lambda binary, which is the function's name in this project), else its logical id; any
//! other reference becomes `arn:aws:placeholder:us-east-1:123456789012:LOGICAL_ID`.

use serde_json::{Map, Value};

/// Why a template gives no runnable definition.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("the file is neither JSON nor YAML: {0}")]
    Parse(String),
    #[error("the template has no AWS::StepFunctions::StateMachine resource")]
    NoStateMachine,
    #[error("the template has several state machines ({0}): choose one with --state-machine")]
    Ambiguous(String),
    #[error("the template has no state machine '{0}' (known: {1})")]
    Unknown(String, String),
    #[error("state machine '{0}': {1}")]
    Definition(String, String),
}

/// What the file given as a definition holds.
pub fn is_template(document: &Value) -> bool {
    document.get("Resources").is_some() && document.get("StartAt").is_none()
}

/// Parse a JSON or YAML file into a JSON value.
pub fn parse_document(text: &str) -> Result<Value, TemplateError> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Ok(value);
    }
    yaml_serde::from_str::<Value>(text).map_err(|e| TemplateError::Parse(e.to_string()))
}

/// The definition of state machine `logical_id` (or of the only one), with substitutions applied.
/// Also gives the logical id chosen.
pub fn state_machine_definition(
    template: &Value,
    logical_id: Option<&str>,
) -> Result<(String, Value), TemplateError> {
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or(TemplateError::NoStateMachine)?;
    let machines: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| {
            r.get("Type").and_then(Value::as_str) == Some("AWS::StepFunctions::StateMachine")
        })
        .map(|(id, _)| id)
        .collect();
    let chosen = match logical_id {
        Some(id) if machines.iter().any(|m| *m == id) => id.to_string(),
        Some(id) => {
            return Err(TemplateError::Unknown(
                id.to_string(),
                machines
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        None => match machines.as_slice() {
            [] => return Err(TemplateError::NoStateMachine),
            [one] => (*one).clone(),
            many => {
                return Err(TemplateError::Ambiguous(
                    many.iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
        },
    };
    let properties = &resources[&chosen]["Properties"];
    let mut definition = if let Some(definition) = properties.get("Definition") {
        definition.clone()
    } else if let Some(text) = properties.get("DefinitionString").and_then(Value::as_str) {
        serde_json::from_str(text).map_err(|e| {
            TemplateError::Definition(chosen.clone(), format!("DefinitionString is not JSON: {e}"))
        })?
    } else {
        return Err(TemplateError::Definition(
            chosen,
            "only an inline Definition or a plain DefinitionString can be read (not DefinitionS3Location or Fn::Sub)".into(),
        ));
    };
    let mut substitutions = Map::new();
    for (key, value) in properties
        .get("DefinitionSubstitutions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        substitutions.insert(key.clone(), Value::String(placeholder(resources, value)));
    }
    substitute(&mut definition, &substitutions);
    Ok((chosen, definition))
}

fn placeholder(resources: &Map<String, Value>, value: &Value) -> String {
    if let Some(text) = value.as_str() {
        return text.to_string();
    }
    let target = value
        .get("Ref")
        .and_then(Value::as_str)
        .or_else(|| {
            value
                .get("Fn::GetAtt")
                .and_then(|a| a.get(0))
                .and_then(Value::as_str)
        })
        .or_else(|| {
            value
                .get("Fn::GetAtt")
                .and_then(Value::as_str)
                .and_then(|s| s.split('.').next())
        });
    let Some(target) = target else {
        return "arn:aws:placeholder:us-east-1:123456789012:unknown".into();
    };
    let resource = resources.get(target);
    if resource.and_then(|r| r.get("Type")).and_then(Value::as_str) == Some("AWS::Lambda::Function")
    {
        let resource = resource.unwrap_or(&Value::Null);
        let name = resource
            .pointer("/Properties/FunctionName")
            .and_then(Value::as_str)
            .or_else(|| {
                resource
                    .pointer("/Metadata/BuildProperties/Binary")
                    .and_then(Value::as_str)
            })
            .unwrap_or(target);
        return format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    }
    format!("arn:aws:placeholder:us-east-1:123456789012:{target}")
}

fn substitute(node: &mut Value, substitutions: &Map<String, Value>) {
    match node {
        Value::String(text) if text.contains("${") => {
            for (key, value) in substitutions {
                if let Some(replacement) = value.as_str() {
                    *text = text.replace(&format!("${{{key}}}"), replacement);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| substitute(item, substitutions)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|value| substitute(value, substitutions)),
        _ => {}
    }
}
