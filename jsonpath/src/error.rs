//! The errors of parsing, evaluating and setting.

/// A path that does not parse, with where and why.
///
/// `Display` reads like: ``invalid path `$.a[` at position 4: expected `,` or `]`, found the end``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path `{path}` at position {position}: {reason}")]
pub struct ParseError {
    /// The text that was parsed.
    pub path: String,
    /// 0-based character offset of the problem.
    pub position: usize,
    pub reason: ParseErrorReason,
}

/// Why a path does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorReason {
    #[error("the path is empty")]
    Empty,
    #[error("a path must start with `$` (or `$$` for the context object)")]
    MissingRoot,
    #[error("`@` is only allowed inside a filter expression")]
    CurrentOutsideFilter,
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("expected {expected}, found {}", found.map_or_else(|| "the end".to_string(), |c| format!("{c:?}")))]
    Expected {
        expected: &'static str,
        found: Option<char>,
    },
    #[error("unterminated string")]
    UnterminatedString,
    #[error("invalid escape sequence (allowed: \\\\ \\' \\\" \\/ \\b \\f \\n \\r \\t \\uXXXX)")]
    InvalidEscape,
    #[error("invalid number `{0}`")]
    InvalidNumber(String),
    #[error("a slice step cannot be 0")]
    ZeroStep,
    #[error("a filter `?(...)` must be alone in its brackets")]
    FilterInUnion,
    #[error("`=` is not an operator; use `==`")]
    SingleEquals,
    #[error("a literal alone is not a condition; compare it with something")]
    BareLiteral,
    #[error("unknown word `{0}` (literals are numbers, quoted strings, true, false, null)")]
    UnknownWord(String),
    #[error("filter expressions nest at most {0} deep")]
    TooDeep(usize),
    /// The text is a valid JSONPath but not a reference path.
    #[error(
        "a reference path cannot contain {0} (only `.name`, `['name']` and `[index]` are allowed)"
    )]
    NotReference(&'static str),
}

/// Why a path could not give the value asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A definite path (or a reference path) selected nothing.
    #[error("the path `{path}` selected nothing")]
    NoMatch { path: String },
    /// [`crate::JsonPath::query_one`] found several values.
    #[error("the path `{path}` selected {count} values where exactly one is needed")]
    Multiple { path: String, count: usize },
    /// The path starts with `$$` but no context object was given.
    #[error("the path `{path}` refers to the context object (`$$`) but none is available")]
    NoContext { path: String },
}

/// Why [`crate::ReferencePath::set`] could not place a value.
///
/// Step Functions reports all of these as `States.ResultPathMatchFailure`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// The path starts with `$$`: the context object is read-only.
    #[error("cannot set `{path}`: the context object is read-only")]
    ContextObject { path: String },
    /// A field step met a value that is not an object (an intermediate `null` counts: only *missing*
    /// fields are created).
    #[error("cannot set `{path}`: `{at}` is {found}, not an object")]
    NotAnObject {
        path: String,
        at: String,
        found: &'static str,
    },
    /// An index step met a value that is not an array.
    #[error("cannot set `{path}`: `{at}` is {found}, not an array")]
    NotAnArray {
        path: String,
        at: String,
        found: &'static str,
    },
    /// An index step is past the end of the array (arrays are never extended).
    #[error("cannot set `{path}`: index {index} is out of bounds at `{at}` (length {len})")]
    IndexOutOfBounds {
        path: String,
        at: String,
        index: usize,
        len: usize,
    },
}

/// A JSON value's type name, for messages: "an object", "a string", ...
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
