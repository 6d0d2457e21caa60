//! Values of `.$` fields: a JSONPath, a context path, or an intrinsic function call.

use asl::intrinsic::{Expr, Function, Piece};
use serde_json::Value;

use crate::error::StatesError;
use crate::intrinsics;

/// Evaluate the value of a `.$` field against the effective input and the context object.
pub(crate) fn evaluate_dynamic(
    text: &str,
    input: &Value,
    context: &Value,
) -> Result<Value, StatesError> {
    let trimmed = text.trim();
    if trimmed.starts_with("States.") {
        let call = asl::intrinsic::parse(trimmed).map_err(|error| {
            StatesError::intrinsic(format!(
                "Invalid intrinsic function '{trimmed}': {}",
                error.reason
            ))
        })?;
        return evaluate_expr(&call, input, context);
    }
    resolve_path(trimmed, input, context)
}

fn resolve_path(path: &str, input: &Value, context: &Value) -> Result<Value, StatesError> {
    let parsed = jsonpath::JsonPath::parse(path)
        .map_err(|e| StatesError::parameter_path(format!("Invalid path '{path}': {e}")))?;
    parsed.resolve(input, Some(context)).map_err(|_| {
        StatesError::parameter_path(format!(
            "The JSONPath '{path}' could not be found in the input '{}'",
            if path.starts_with("$$") {
                context
            } else {
                input
            }
        ))
    })
}

fn evaluate_expr(expr: &Expr, input: &Value, context: &Value) -> Result<Value, StatesError> {
    match expr {
        Expr::Call(call) => {
            let mut values = Vec::with_capacity(call.args.len());
            for (index, arg) in call.args.iter().enumerate() {
                match (call.function, index, arg) {
                    // States.Format fills only the unescaped placeholders: hand it the template with
                    // literal braces escaped again
                    (Function::Format, 0, Expr::String(literal)) => {
                        values.push(Value::String(format_template(&literal.pieces)));
                    }
                    _ => values.push(evaluate_expr(arg, input, context)?),
                }
            }
            intrinsics::call(call.function.name(), &values)
        }
        Expr::String(literal) => Ok(Value::String(literal.value.clone())),
        Expr::Number(number) => Ok(Value::Number(number.clone())),
        Expr::Bool(flag) => Ok(Value::Bool(*flag)),
        Expr::Null => Ok(Value::Null),
        Expr::Path(path) => path.resolve(input, Some(context)).map_err(|_| {
            StatesError::parameter_path(format!(
                "The JSONPath '{path}' could not be found in the input '{}'",
                if path.to_string().starts_with("$$") {
                    context
                } else {
                    input
                }
            ))
        }),
    }
}

fn format_template(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Placeholder => out.push_str("{}"),
            Piece::Text(text) => {
                for c in text.chars() {
                    if matches!(c, '{' | '}' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Apply a payload template (Parameters, ResultSelector, ItemSelector): keys ending in `.$` are
/// evaluated, nested objects recursively; arrays and other values are copied.
pub(crate) fn apply_template(
    template: &Value,
    input: &Value,
    context: &Value,
) -> Result<Value, StatesError> {
    match template {
        Value::Object(fields) => {
            let mut out = serde_json::Map::with_capacity(fields.len());
            for (key, value) in fields {
                if let Some(name) = key.strip_suffix(".$") {
                    let text = value.as_str().ok_or_else(|| {
                        StatesError::parameter_path(format!(
                            "The value of '{key}' must be a path or an intrinsic function"
                        ))
                    })?;
                    out.insert(name.to_string(), evaluate_dynamic(text, input, context)?);
                } else {
                    out.insert(key.clone(), apply_template(value, input, context)?);
                }
            }
            Ok(Value::Object(out))
        }
        // The spec's "however deeply nested" includes objects inside arrays: AWS's own ECS example
        // fills `"ContainerOverrides": [{"Command.$": "$.commands"}]`.
        Value::Array(items) => items
            .iter()
            .map(|item| apply_template(item, input, context))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}
