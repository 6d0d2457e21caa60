//! JSONPath as AWS uses it: Step Functions paths and reference paths, API Gateway `$input.path`.
//!
//! Two types, because Step Functions has two kinds of paths:
//!
//! - [`JsonPath`]: the general syntax (Jayway JsonPath, which AWS runs), for `InputPath`,
//!   `OutputPath`, the values of `.$` keys in `Parameters`/`ResultSelector`/`ItemSelector`, and API
//!   Gateway's `$input.path('$.x')` / `$input.json('$.x')`.
//! - [`ReferencePath`]: a path that can only name one node (`$`, `$.a.b`, `$['a b'][0]`,
//!   `$$.Map.Item.Value`): no wildcard, filter, slice, union or `..`. Step Functions requires it for
//!   `ResultPath`, `ItemsPath`, a Choice rule's `Variable` and every `...Path` field
//!   (`SecondsPath`, `ErrorPath`, `StringEqualsPath`, ...). Only a reference path can be **set**.
//!
//! Both have `parse` (errors name the 0-based character position and the reason), `is_valid` (a
//! cheap yes/no), `Display` (writes the path back in canonical form; `parse(p.to_string()) == p`),
//! and serde as a string.
//!
//! # Supported syntax
//!
//! | syntax | meaning |
//! |---|---|
//! | `$` | the input (the whole document) |
//! | `$$` | the Step Functions context object (`$$.Execution.Id`, `$$.Map.Item.Value`) |
//! | `.name`, `['name']`, `["name"]` | object member; quoted names take escapes `\'` `\"` `\\` `\n` `\uXXXX` ... |
//! | `[0]`, `[-1]` | array element; negative counts from the end |
//! | `.*`, `[*]` | all members / elements |
//! | `..name`, `..*`, `..[0]` | recursive descent (the node and all its descendants, document order) |
//! | `[1:3]`, `[:2]`, `[-2:]`, `[::2]` | slice, Python rules |
//! | `[0,2]`, `['a','b']` | union, results in selector order |
//! | `[?(@.price < 10 && @.tags)]` | filter: `== != < <= > >=`, `&&`, `\|\|`, `!`, parentheses; operands `@...`, `$...`, numbers, `'strings'`, `true`, `false`, `null`; a bare path tests existence |
//!
//! Filters follow Jayway: on an array they keep the elements that pass; on an object they keep the
//! object itself if it passes (`$.store.bicycle[?(@.color == 'red')]`). Under `..` a filter tests
//! array elements only, so no node is selected twice. `<`/`>` compare numbers with numbers and strings with strings (else
//! false); a missing operand equals only another missing operand.
//!
//! # Evaluating
//!
//! ```
//! use jsonpath::JsonPath;
//! use serde_json::json;
//!
//! let input = json!({"store": {"book": [{"price": 8}, {"price": 12}]}});
//! let path = JsonPath::parse("$.store.book[?(@.price < 10)].price")?;
//! assert_eq!(path.query(&input), vec![&json!(8)]);
//!
//! // Step Functions semantics: a definite path gives its value (or an error if it selects nothing),
//! // an indefinite one (wildcard, filter, slice, union, `..`) gives the array of its matches.
//! assert_eq!(JsonPath::parse("$.store.book[0]")?.resolve(&input, None)?, json!({"price": 8}));
//! assert_eq!(JsonPath::parse("$..price")?.resolve(&input, None)?, json!([8, 12]));
//! assert!(JsonPath::parse("$.nope")?.resolve(&input, None).is_err());
//!
//! // The context object is a second root.
//! let context = json!({"Map": {"Item": {"Index": 1, "Value": "b"}}});
//! let item = JsonPath::parse("$$.Map.Item.Value")?;
//! assert_eq!(item.query_one(&input, Some(&context))?, &json!("b"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Setting (ResultPath)
//!
//! [`ReferencePath::set`] places a value the way `ResultPath` does: `$` replaces the whole document;
//! missing object fields along the way are created as `{}`; an existing field is replaced in place
//! (its position among the keys is kept). It fails with a [`SetError`] (Step Functions'
//! `States.ResultPathMatchFailure`) when a step meets a value of the wrong type (a field step on a
//! string, number, array, boolean or `null`; an index step on a non-array), when an index is past the
//! end of an array (arrays are never extended), and for `$$` paths (the context object is read-only).
//!
//! ```
//! use jsonpath::ReferencePath;
//! use serde_json::json;
//!
//! let mut state = json!({"order": {"id": "o-1"}});
//! ReferencePath::parse("$.order.result.stock")?.set(&mut state, json!(3))?;
//! assert_eq!(state, json!({"order": {"id": "o-1", "result": {"stock": 3}}}));
//!
//! let err = ReferencePath::parse("$.order.id.x")?.set(&mut state, json!(1)).unwrap_err();
//! assert_eq!(err.to_string(), "cannot set `$.order.id.x`: `$.order.id` is a string, not an object");
//!
//! assert!(ReferencePath::parse("$.items[*]").is_err()); // not a reference path
//! assert!(ReferencePath::is_valid("$['a b'][0]"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ast;
mod display;
mod error;
mod eval;
mod parse;

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use ast::{CompareOp, FilterExpr, Operand, Root, Segment, Selector, Slice, Step};
pub use error::{EvalError, ParseError, ParseErrorReason, SetError};

use error::type_name;
use eval::Roots;

/// A general JSONPath (see the [crate docs](crate) for the syntax).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub(crate) root: Root,
    pub(crate) segments: Vec<Segment>,
}

impl JsonPath {
    /// Parses a path. It must start with `$` or `$$`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parse::parse_path(text).map(|parsed| parsed.path)
    }

    /// Whether `text` parses as a path.
    pub fn is_valid(text: &str) -> bool {
        Self::parse(text).is_ok()
    }

    /// `$`, `$$` (or `@` for a path inside a filter).
    pub fn root(&self) -> Root {
        self.root
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// True when the path can select at most one node: only names and indexes, one per segment
    /// (no wildcard, filter, slice, union or `..`). Step Functions gives a definite path's value as is
    /// and an indefinite path's matches as an array.
    pub fn is_definite(&self) -> bool {
        self.segments.iter().all(|segment| {
            matches!(segment, Segment::Child(selectors)
                if matches!(selectors.as_slice(), [Selector::Name(_) | Selector::Index(_)]))
        })
    }

    /// The reference path this is, if it is one (see [`ReferencePath`]).
    pub fn to_reference_path(&self) -> Option<ReferencePath> {
        ReferencePath::from_json_path(self).ok()
    }

    /// The values the path selects in `input`, in document/selector order. A `$$` path selects
    /// nothing here (there is no context object): use [`JsonPath::query_with_context`].
    pub fn query<'a>(&self, input: &'a Value) -> Vec<&'a Value> {
        eval::evaluate(
            self,
            Roots {
                input,
                context: None,
                current: input,
            },
        )
    }

    /// Like [`JsonPath::query`], with `$$` paths (also inside filters) reading `context`.
    pub fn query_with_context<'a>(&self, input: &'a Value, context: &'a Value) -> Vec<&'a Value> {
        eval::evaluate(
            self,
            Roots {
                input,
                context: Some(context),
                current: input,
            },
        )
    }

    fn query_checked<'a>(
        &self,
        input: &'a Value,
        context: Option<&'a Value>,
    ) -> Result<Vec<&'a Value>, EvalError> {
        if self.root == Root::Context && context.is_none() {
            return Err(EvalError::NoContext {
                path: self.to_string(),
            });
        }
        Ok(eval::evaluate(
            self,
            Roots {
                input,
                context,
                current: input,
            },
        ))
    }

    /// Exactly one value, as a reference path needs: an error if the path selects nothing
    /// ([`EvalError::NoMatch`]), several values ([`EvalError::Multiple`]), or starts with `$$` and
    /// `context` is `None` ([`EvalError::NoContext`]).
    pub fn query_one<'a>(
        &self,
        input: &'a Value,
        context: Option<&'a Value>,
    ) -> Result<&'a Value, EvalError> {
        let found = self.query_checked(input, context)?;
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(EvalError::NoMatch {
                path: self.to_string(),
            }),
            many => Err(EvalError::Multiple {
                path: self.to_string(),
                count: many.len(),
            }),
        }
    }

    /// The value Step Functions gives for this path (InputPath, OutputPath, `.$` keys): for a
    /// [definite](JsonPath::is_definite) path its one value, or [`EvalError::NoMatch`] when it selects
    /// nothing; for an indefinite path the array of its matches (possibly empty).
    pub fn resolve(&self, input: &Value, context: Option<&Value>) -> Result<Value, EvalError> {
        if self.is_definite() {
            self.query_one(input, context).cloned()
        } else {
            let found = self.query_checked(input, context)?;
            Ok(Value::Array(found.into_iter().cloned().collect()))
        }
    }
}

impl FromStr for JsonPath {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        Self::parse(text)
    }
}

/// A path that names exactly one node: `$` or `$$`, then only `.name`, `['name']` and `[index]`
/// (non-negative). What Step Functions requires for `ResultPath`, `ItemsPath`, Choice `Variable` and
/// the `...Path` fields. See the [crate docs](crate) for [`ReferencePath::set`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferencePath {
    pub(crate) root: Root,
    pub(crate) steps: Vec<Step>,
}

impl ReferencePath {
    /// Parses a reference path; a valid JSONPath that is not a reference path is an error naming the
    /// offending segment ([`ParseErrorReason::NotReference`]).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let parsed = parse::parse_path(text)?;
        Self::from_json_path(&parsed.path).map_err(|(segment, reason)| ParseError {
            path: text.to_string(),
            position: parsed.segment_positions[segment],
            reason: ParseErrorReason::NotReference(reason),
        })
    }

    /// Whether `text` parses as a reference path.
    pub fn is_valid(text: &str) -> bool {
        Self::parse(text).is_ok()
    }

    /// `$` alone: the whole input.
    pub fn root_input() -> Self {
        ReferencePath {
            root: Root::Input,
            steps: Vec::new(),
        }
    }

    /// Builds `$.a.b...` from field names (no parsing: any name is fine).
    pub fn from_fields<I, S>(fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ReferencePath {
            root: Root::Input,
            steps: fields.into_iter().map(|f| Step::Field(f.into())).collect(),
        }
    }

    /// On failure: the index of the offending segment and what it contains.
    fn from_json_path(path: &JsonPath) -> Result<Self, (usize, &'static str)> {
        let mut steps = Vec::with_capacity(path.segments.len());
        for (i, segment) in path.segments.iter().enumerate() {
            let selectors = match segment {
                Segment::Descendant(_) => return Err((i, "`..` (recursive descent)")),
                Segment::Child(selectors) => selectors,
            };
            let step = match selectors.as_slice() {
                [Selector::Name(name)] => Step::Field(name.clone()),
                [Selector::Index(index)] => match usize::try_from(*index) {
                    Ok(index) => Step::Index(index),
                    Err(_) => return Err((i, "a negative index")),
                },
                [Selector::Wildcard] => return Err((i, "`*` (wildcard)")),
                [Selector::Slice(_)] => return Err((i, "a slice `[a:b]`")),
                [Selector::Filter(_)] => return Err((i, "a filter `[?(...)]`")),
                _ => return Err((i, "a union `[a,b]`")),
            };
            steps.push(step);
        }
        Ok(ReferencePath {
            root: path.root,
            steps,
        })
    }

    /// `$` or `$$`.
    pub fn root(&self) -> Root {
        self.root
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// True for `$` alone (the whole input).
    pub fn is_root(&self) -> bool {
        self.root == Root::Input && self.steps.is_empty()
    }

    /// The same path as a general [`JsonPath`].
    pub fn to_json_path(&self) -> JsonPath {
        JsonPath {
            root: self.root,
            segments: self
                .steps
                .iter()
                .map(|step| {
                    Segment::Child(vec![match step {
                        Step::Field(name) => Selector::Name(name.clone()),
                        Step::Index(index) => Selector::Index(*index as i64),
                    }])
                })
                .collect(),
        }
    }

    /// The node the path names, if present. `$$` paths read `context` (`None` → `None`).
    pub fn get<'a>(&self, input: &'a Value, context: Option<&'a Value>) -> Option<&'a Value> {
        let mut node = match self.root {
            Root::Context => context?,
            _ => input,
        };
        for step in &self.steps {
            node = match step {
                Step::Field(name) => node.as_object()?.get(name)?,
                Step::Index(index) => node.as_array()?.get(*index)?,
            };
        }
        Some(node)
    }

    /// Like [`ReferencePath::get`], with an [`EvalError`] when the node is missing.
    pub fn get_required<'a>(
        &self,
        input: &'a Value,
        context: Option<&'a Value>,
    ) -> Result<&'a Value, EvalError> {
        if self.root == Root::Context && context.is_none() {
            return Err(EvalError::NoContext {
                path: self.to_string(),
            });
        }
        self.get(input, context).ok_or_else(|| EvalError::NoMatch {
            path: self.to_string(),
        })
    }

    /// Places `value` at this path inside `target`, as `ResultPath` does (see the crate docs).
    /// The path is checked before anything is created, so a failed set leaves `target` unchanged.
    pub fn set(&self, target: &mut Value, value: Value) -> Result<(), SetError> {
        if self.root == Root::Context {
            return Err(SetError::ContextObject {
                path: self.to_string(),
            });
        }
        self.check_settable(target)?;
        let mut node = target;
        for (i, step) in self.steps.iter().enumerate() {
            let last = i + 1 == self.steps.len();
            node = match (step, node) {
                (Step::Field(name), Value::Object(map)) => {
                    if last {
                        map.insert(name.clone(), value);
                        return Ok(());
                    }
                    map.entry(name.clone())
                        .or_insert_with(|| Value::Object(Default::default()))
                }
                (Step::Index(index), Value::Array(items)) => {
                    let slot = &mut items[*index];
                    if last {
                        *slot = value;
                        return Ok(());
                    }
                    slot
                }
                // check_settable ruled these out
                (_, other) => {
                    return Err(SetError::NotAnObject {
                        path: self.to_string(),
                        at: self.prefix(i),
                        found: type_name(other),
                    });
                }
            };
        }
        *node = value;
        Ok(())
    }

    /// Walks the existing part of the path and reports the first step that cannot be taken.
    fn check_settable(&self, target: &Value) -> Result<(), SetError> {
        let mut node = target;
        for (i, step) in self.steps.iter().enumerate() {
            let next = match (step, node) {
                (Step::Field(name), Value::Object(map)) => map.get(name),
                (Step::Field(_), other) => {
                    return Err(SetError::NotAnObject {
                        path: self.to_string(),
                        at: self.prefix(i),
                        found: type_name(other),
                    });
                }
                (Step::Index(index), Value::Array(items)) => match items.get(*index) {
                    Some(item) => Some(item),
                    None => {
                        return Err(SetError::IndexOutOfBounds {
                            path: self.to_string(),
                            at: self.prefix(i),
                            index: *index,
                            len: items.len(),
                        });
                    }
                },
                (Step::Index(_), other) => {
                    return Err(SetError::NotAnArray {
                        path: self.to_string(),
                        at: self.prefix(i),
                        found: type_name(other),
                    });
                }
            };
            match next {
                Some(next) => node = next,
                // The rest is created as objects; an index step in it has no array to go into.
                None => {
                    return match self.steps[i + 1..]
                        .iter()
                        .position(|s| matches!(s, Step::Index(_)))
                    {
                        Some(offset) => Err(SetError::NotAnArray {
                            path: self.to_string(),
                            at: self.prefix(i + 1 + offset),
                            found: "missing",
                        }),
                        None => Ok(()),
                    };
                }
            }
        }
        Ok(())
    }

    /// The text of the path's first `len` steps.
    fn prefix(&self, len: usize) -> String {
        ReferencePath {
            root: self.root,
            steps: self.steps[..len].to_vec(),
        }
        .to_string()
    }
}

impl FromStr for ReferencePath {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        Self::parse(text)
    }
}

impl From<ReferencePath> for JsonPath {
    fn from(path: ReferencePath) -> Self {
        path.to_json_path()
    }
}

impl TryFrom<JsonPath> for ReferencePath {
    type Error = ParseError;
    fn try_from(path: JsonPath) -> Result<Self, ParseError> {
        Self::parse(&path.to_string())
    }
}

macro_rules! serde_as_string {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_string!(JsonPath);
serde_as_string!(ReferencePath);
