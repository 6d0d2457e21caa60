//! Payload templates: the JSON objects of `Parameters`, `ResultSelector` and `ItemSelector`.
//!
//! A key ending in `.$` holds a *dynamic* value, a string that is either a path (starts with `$`:
//! `$.order.id`, `$$.Map.Item.Value`) or an intrinsic function call (`States.Format(...)`); the key
//! is written without the `.$` in the result. Other keys are copied as they are. The spec applies
//! this to fields "however deeply nested": objects nested in objects *and in arrays*. The AWS docs'
//! own ECS example relies on it: `"Overrides": {"ContainerOverrides": [{"Name": "container-name",
//! "Command.$": "$.commands"}]}` passes `$.commands` to the container
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html>; kept in
//! `tests/valid/ecs-run-task.json`). An interpreter must apply templates inside arrays too.
//!
//! ```
//! use asl::payload::{dynamic_fields, Dynamic};
//! use serde_json::json;
//!
//! let template = json!({"FunctionName": "f", "Payload": {"order.$": "$.order", "id.$": "States.UUID()"}});
//! let fields = dynamic_fields(&template);
//! assert_eq!(fields.len(), 2);
//! assert_eq!(fields[0].pointer, "/Payload/order.$");
//! assert_eq!(fields[0].output_key(), "order");
//! assert!(matches!(fields[0].parse().unwrap(), Dynamic::Path(_)));
//! assert!(matches!(fields[1].parse().unwrap(), Dynamic::Intrinsic(_)));
//! ```

use jsonpath::JsonPath;
use serde_json::Value;

use crate::intrinsic::{self, Expr};

/// A parsed dynamic value.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic {
    Path(JsonPath),
    Intrinsic(Expr),
}

/// Why a dynamic value is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DynamicError {
    #[error(
        "the value of a `.$` key must be a string (a path or an intrinsic function call), found {0}"
    )]
    NotAString(&'static str),
    #[error(transparent)]
    Path(#[from] jsonpath::ParseError),
    #[error(transparent)]
    Intrinsic(#[from] intrinsic::IntrinsicError),
}

/// Parses the text of a dynamic value: a path if it starts with `$`, else an intrinsic call.
pub fn parse_dynamic(text: &str) -> Result<Dynamic, DynamicError> {
    if text.trim_start().starts_with('$') {
        Ok(Dynamic::Path(JsonPath::parse(text)?))
    } else {
        Ok(Dynamic::Intrinsic(intrinsic::parse(text)?))
    }
}

/// A `.$` field found in a template.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicField<'a> {
    /// JSON pointer (RFC 6901) of the field in the template, e.g. `/Payload/order.$`.
    pub pointer: String,
    /// The key as written, with its `.$`.
    pub key: &'a str,
    pub value: &'a Value,
}

impl DynamicField<'_> {
    /// The key the result will carry (without `.$`).
    pub fn output_key(&self) -> &str {
        self.key.strip_suffix(".$").unwrap_or(self.key)
    }

    pub fn parse(&self) -> Result<Dynamic, DynamicError> {
        match self.value {
            Value::String(text) => parse_dynamic(text),
            other => Err(DynamicError::NotAString(type_name(other))),
        }
    }
}

/// Every `.$` field of a template, in document order (in nested objects and arrays too).
pub fn dynamic_fields(template: &Value) -> Vec<DynamicField<'_>> {
    let mut out = Vec::new();
    collect(template, String::new(), &mut out);
    out
}

fn collect<'a>(node: &'a Value, pointer: String, out: &mut Vec<DynamicField<'a>>) {
    let map = match node {
        Value::Object(map) => map,
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, format!("{pointer}/{i}"), out);
            }
            return;
        }
        _ => return,
    };
    for (key, value) in map {
        let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
        if key.ends_with(".$") {
            out.push(DynamicField {
                pointer: child,
                key,
                value,
            });
        } else {
            collect(value, child, out);
        }
    }
}

/// Whether `key` marks a dynamic value.
pub fn is_dynamic_key(key: &str) -> bool {
    key.ends_with(".$")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
