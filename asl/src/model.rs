//! The typed Amazon States Language model. Field names and nesting are exactly the JSON's; see the
//! crate docs for the conventions (`Nullable`, paths kept as text, payload templates as JSON).

use indexmap::IndexMap;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use crate::choice::ChoiceRule;

/// A field that can be absent, explicitly `null`, or hold a value — three different things for
/// `InputPath`, `OutputPath` and `ResultPath`:
///
/// | JSON | `InputPath`/`OutputPath` | `ResultPath` |
/// |---|---|---|
/// | absent | `$` (pass everything) | `$` (the result replaces the input) |
/// | `null` | `{}` (pass an empty object) | discard the result, output = input |
/// | `"$.x"` | select `$.x` | put the result at `$.x` |
///
/// Use it with `#[serde(default, skip_serializing_if = "Nullable::is_absent")]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Nullable<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Nullable<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }

    /// The value, if one is written.
    pub fn value(&self) -> Option<&T> {
        match self {
            Nullable::Value(value) => Some(value),
            _ => None,
        }
    }
}

impl Nullable<String> {
    /// The path in effect: `Some("$")` when absent, `None` when `null`, else the written path.
    pub fn effective_path(&self) -> Option<&str> {
        match self {
            Nullable::Absent => Some("$"),
            Nullable::Null => None,
            Nullable::Value(path) => Some(path),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Only reached without skip_serializing_if; writing null is the closest meaning.
            Nullable::Absent | Nullable::Null => serializer.serialize_none(),
            Nullable::Value(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Nullable::Value(value),
            None => Nullable::Null,
        })
    }
}

/// `"Result": null` and `"Parameters": null` are values, not absences: keep them.
fn present_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// `QueryLanguage`. Only JSONPath is supported; JSONata parses (so the error can name the state)
/// and is rejected by [`crate::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryLanguage {
    #[serde(rename = "JSONPath")]
    JsonPath,
    #[serde(rename = "JSONata")]
    Jsonata,
}

/// A whole state machine (the `Definition` of an `AWS::StepFunctions::StateMachine`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StateMachine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    pub start_at: String,
    #[serde(deserialize_with = "deserialize_states")]
    pub states: IndexMap<String, State>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl StateMachine {
    /// Reads a definition from JSON text. Errors name the state (`state `X`: ...`).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The definition as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| unreachable_serialization())
    }

    /// The definition as indented JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| unreachable_serialization())
    }

    /// The definition as a JSON value (to embed in a CloudFormation template).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| unreachable_serialization())
    }

    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }
}

/// Serializing the model cannot fail: every field is a string, number, bool, map with string keys or
/// a `serde_json::Value`. Kept in one place so the claim is easy to check.
fn unreachable_serialization() -> ! {
    panic!("serializing an ASL model to JSON cannot fail")
}

/// `States` maps deserialize state by state so an error names the state it is in.
pub(crate) fn deserialize_states<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<IndexMap<String, State>, D::Error> {
    let raw = IndexMap::<String, Value>::deserialize(deserializer)?;
    let mut states = IndexMap::with_capacity(raw.len());
    for (name, value) in raw {
        let hint = unsupported_feature(&value);
        let state = State::deserialize(value).map_err(|e| match hint {
            Some(hint) => D::Error::custom(format!("state `{name}`: {hint} ({e})")),
            None => D::Error::custom(format!("state `{name}`: {e}")),
        })?;
        states.insert(name, state);
    }
    Ok(states)
}

/// Names what a state that does not read uses from the JSONata / variables world, if anything, so the
/// error says so instead of only "unknown field".
fn unsupported_feature(state: &Value) -> Option<String> {
    let fields = state.as_object()?;
    if fields.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        return Some("`QueryLanguage: JSONata` is not supported; use JSONPath".to_string());
    }
    ["Arguments", "Output", "Assign", "Condition", "Items"]
        .into_iter()
        .find(|field| fields.contains_key(*field))
        .map(|field| {
            format!("`{field}` belongs to JSONata or workflow variables, which are not supported")
        })
}

/// A state, tagged by its `"Type"`.
// Unboxed variants keep pattern matching plain; a definition has tens of states, not millions.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Type")]
pub enum State {
    Task(Task),
    Map(Map),
    Parallel(Parallel),
    Pass(Pass),
    Choice(Choice),
    Wait(Wait),
    Succeed(Succeed),
    Fail(Fail),
}

/// How a state is left: by `Next`, by `End`, or (Choice, Succeed, Fail) by its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition<'a> {
    Next(&'a str),
    End,
}

impl State {
    /// The `"Type"` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Task(_) => "Task",
            State::Map(_) => "Map",
            State::Parallel(_) => "Parallel",
            State::Pass(_) => "Pass",
            State::Choice(_) => "Choice",
            State::Wait(_) => "Wait",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
        }
    }

    pub fn comment(&self) -> Option<&str> {
        match self {
            State::Task(s) => s.comment.as_deref(),
            State::Map(s) => s.comment.as_deref(),
            State::Parallel(s) => s.comment.as_deref(),
            State::Pass(s) => s.comment.as_deref(),
            State::Choice(s) => s.comment.as_deref(),
            State::Wait(s) => s.comment.as_deref(),
            State::Succeed(s) => s.comment.as_deref(),
            State::Fail(s) => s.comment.as_deref(),
        }
    }

    pub fn query_language(&self) -> Option<QueryLanguage> {
        match self {
            State::Task(s) => s.query_language,
            State::Map(s) => s.query_language,
            State::Parallel(s) => s.query_language,
            State::Pass(s) => s.query_language,
            State::Choice(s) => s.query_language,
            State::Wait(s) => s.query_language,
            State::Succeed(s) => s.query_language,
            State::Fail(s) => s.query_language,
        }
    }

    /// `Next` and `End` as written, for the states that have them (Task, Map, Parallel, Pass, Wait).
    pub fn next_and_end(&self) -> Option<(Option<&str>, Option<bool>)> {
        let (next, end) = match self {
            State::Task(s) => (&s.next, s.end),
            State::Map(s) => (&s.next, s.end),
            State::Parallel(s) => (&s.next, s.end),
            State::Pass(s) => (&s.next, s.end),
            State::Wait(s) => (&s.next, s.end),
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => return None,
        };
        Some((next.as_deref(), end))
    }

    /// Where the state goes when it completes normally, if well-formed (`Next` xor `End: true`).
    /// `None` for Choice, Succeed and Fail, and for a malformed state (both or neither).
    pub fn transition(&self) -> Option<Transition<'_>> {
        match self.next_and_end()? {
            (Some(next), None | Some(false)) => Some(Transition::Next(next)),
            (None, Some(true)) => Some(Transition::End),
            _ => None,
        }
    }

    /// `Retry`, for the states that have it (Task, Map, Parallel); empty otherwise.
    pub fn retriers(&self) -> &[Retrier] {
        match self {
            State::Task(s) => s.retry.as_deref(),
            State::Map(s) => s.retry.as_deref(),
            State::Parallel(s) => s.retry.as_deref(),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// `Catch`, for the states that have it (Task, Map, Parallel); empty otherwise.
    pub fn catchers(&self) -> &[Catcher] {
        match self {
            State::Task(s) => s.catch.as_deref(),
            State::Map(s) => s.catch.as_deref(),
            State::Parallel(s) => s.catch.as_deref(),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// `InputPath` (Fail has none: `Absent`).
    pub fn input_path(&self) -> &Nullable<String> {
        static ABSENT: Nullable<String> = Nullable::Absent;
        match self {
            State::Task(s) => &s.input_path,
            State::Map(s) => &s.input_path,
            State::Parallel(s) => &s.input_path,
            State::Pass(s) => &s.input_path,
            State::Choice(s) => &s.input_path,
            State::Wait(s) => &s.input_path,
            State::Succeed(s) => &s.input_path,
            State::Fail(_) => &ABSENT,
        }
    }

    /// `OutputPath` (Fail has none: `Absent`).
    pub fn output_path(&self) -> &Nullable<String> {
        static ABSENT: Nullable<String> = Nullable::Absent;
        match self {
            State::Task(s) => &s.output_path,
            State::Map(s) => &s.output_path,
            State::Parallel(s) => &s.output_path,
            State::Pass(s) => &s.output_path,
            State::Choice(s) => &s.output_path,
            State::Wait(s) => &s.output_path,
            State::Succeed(s) => &s.output_path,
            State::Fail(_) => &ABSENT,
        }
    }

    /// `ResultPath`, for Task, Map, Parallel and Pass.
    pub fn result_path(&self) -> Option<&Nullable<String>> {
        match self {
            State::Task(s) => Some(&s.result_path),
            State::Map(s) => Some(&s.result_path),
            State::Parallel(s) => Some(&s.result_path),
            State::Pass(s) => Some(&s.result_path),
            _ => None,
        }
    }
}

/// `"Type": "Task"`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Task {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    /// A function ARN, an `arn:aws:states:::service:action` integration, or a `${Substitution}`.
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    /// A payload template (see [`crate::payload`]).
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub result_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub result_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_seconds_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Vec<Retrier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch: Option<Vec<Catcher>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

/// `"Type": "Map"` (inline or distributed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Map {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    /// A reference path to the array to iterate (default `$`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_path: Option<String>,
    /// Distributed mode: where to read items from (kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_reader: Option<Value>,
    /// The payload template for each item (`$$.Map.Item.Value`, `$$.Map.Item.Index`).
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub item_selector: Option<Value>,
    /// The older name of `ItemSelector`.
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_batcher: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_processor: Option<ItemProcessor>,
    /// The older form of `ItemProcessor` (no `ProcessorConfig`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterator: Option<Branch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percentage: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percentage_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_count_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_writer: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub result_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub result_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Vec<Retrier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch: Option<Vec<Catcher>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

impl Map {
    /// The item template in effect: `ItemSelector`, else the older `Parameters`.
    pub fn effective_item_selector(&self) -> Option<&Value> {
        self.item_selector.as_ref().or(self.parameters.as_ref())
    }

    /// The states run per item: `ItemProcessor`'s, else the older `Iterator`'s, as
    /// `(StartAt, States)`.
    pub fn processor(&self) -> Option<(&str, &IndexMap<String, State>)> {
        match (&self.item_processor, &self.iterator) {
            (Some(p), _) => Some((&p.start_at, &p.states)),
            (None, Some(i)) => Some((&i.start_at, &i.states)),
            (None, None) => None,
        }
    }
}

/// `ItemProcessor` of a Map state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ItemProcessor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_config: Option<ProcessorConfig>,
    pub start_at: String,
    #[serde(deserialize_with = "deserialize_states")]
    pub states: IndexMap<String, State>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProcessorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ProcessorMode>,
    /// Required by AWS in DISTRIBUTED mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_type: Option<ExecutionType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProcessorMode {
    Inline,
    Distributed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExecutionType {
    Standard,
    Express,
}

/// A Parallel branch, or a Map's older `Iterator`: a nested state machine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Branch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub start_at: String,
    #[serde(deserialize_with = "deserialize_states")]
    pub states: IndexMap<String, State>,
}

/// `"Type": "Parallel"`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Parallel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Value>,
    pub branches: Vec<Branch>,
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub result_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub result_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Vec<Retrier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch: Option<Vec<Catcher>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

/// `"Type": "Pass"`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Pass {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Value>,
    /// The fixed result (any JSON, `null` included: `Some(Value::Null)`).
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub result_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

/// `"Type": "Choice"`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Choice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    pub choices: Vec<ChoiceRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
}

/// `"Type": "Wait"`: exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Wait {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_path: Option<String>,
    /// An RFC 3339 timestamp (`2026-03-14T01:59:00Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_path: Option<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

/// `"Type": "Succeed"`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Succeed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub input_path: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub output_path: Nullable<String>,
}

/// `"Type": "Fail"`: at most one of `Error`/`ErrorPath`, at most one of `Cause`/`CausePath`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Fail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A reference path or an intrinsic function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// A reference path or an intrinsic function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_path: Option<String>,
}

/// `JitterStrategy` of a retrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JitterStrategy {
    Full,
    None,
}

/// One element of `Retry`. Absent fields take the documented defaults (see the methods).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Retrier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub error_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// A number ≥ 1.0; kept as written (`2` and `2.0` both round-trip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_rate: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_strategy: Option<JitterStrategy>,
}

impl Retrier {
    /// `IntervalSeconds`, default 1.
    pub fn effective_interval_seconds(&self) -> u64 {
        self.interval_seconds.unwrap_or(1)
    }

    /// `MaxAttempts`, default 3 (0 means never retry).
    pub fn effective_max_attempts(&self) -> u64 {
        self.max_attempts.unwrap_or(3)
    }

    /// `BackoffRate`, default 2.0.
    pub fn effective_backoff_rate(&self) -> f64 {
        self.backoff_rate
            .as_ref()
            .and_then(Number::as_f64)
            .unwrap_or(2.0)
    }

    /// `JitterStrategy`, default `NONE`.
    pub fn effective_jitter_strategy(&self) -> JitterStrategy {
        self.jitter_strategy.unwrap_or(JitterStrategy::None)
    }
}

/// One element of `Catch`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Catcher {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub error_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub result_path: Nullable<String>,
    pub next: String,
}
