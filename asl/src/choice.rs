//! Choice rules.
//!
//! A rule is a boolean [`Condition`]; the top-level rules of a Choice state also carry `Next`
//! ([`ChoiceRule`]), nested ones (inside `And`/`Or`/`Not`) do not.
//!
//! Reading never fails on a rule's *shape*: a rule with no operator, two operators, an operand of the
//! wrong type, `Next` inside a nested rule, an unknown field... reads as [`Condition::Malformed`],
//! keeping the JSON as written (so it serializes back unchanged) and the reason, and
//! [`crate::validate`] reports it naming the state and rule. An interpreter should treat a malformed
//! rule as a definition error (`States.Runtime`).

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

/// A top-level rule of a Choice state's `Choices`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    pub condition: Condition,
    /// Required at top level; `None` is reported by validation.
    pub next: Option<String>,
    pub comment: Option<String>,
}

/// A boolean expression over the state's input.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `"And": [...]`: all hold (a non-empty list).
    And(Vec<Condition>),
    /// `"Or": [...]`: at least one holds (a non-empty list).
    Or(Vec<Condition>),
    /// `"Not": {...}`.
    Not(Box<Condition>),
    /// `"Variable": "$.x", "<Operator>": operand`.
    Compare(Comparison),
    /// A rule whose shape is wrong: `json` as written, `reason` says what is wrong.
    Malformed { json: Value, reason: String },
}

/// `Variable` compared by one operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// A reference path (to the input, or `$$` to the context object).
    pub variable: String,
    pub operator: Operator,
    pub operand: Operand,
}

impl Comparison {
    /// The JSON key of the operator: `StringEquals`, `NumericLessThanPath`, `IsPresent`...
    pub fn key(&self) -> String {
        match self.operand {
            Operand::Path(_) => format!("{}Path", self.operator.name()),
            _ => self.operator.name().to_string(),
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// For `String*`, `Timestamp*` (an RFC 3339 text) and `StringMatches` (a pattern with `*`
    /// wildcards and `\*`, `\\` escapes).
    String(String),
    /// For `Numeric*`, kept as written.
    Number(Number),
    /// For `BooleanEquals` and the `Is*` tests.
    Bool(bool),
    /// For the `...Path` variants: a reference path to the value to compare with.
    Path(String),
}

/// What a comparison operand must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    String,
    Number,
    Bool,
}

macro_rules! operators {
    ($( $variant:ident => $kind:ident, $has_path:literal; )*) => {
        /// Every comparison operator of the States Language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operator {
            $( $variant, )*
        }

        impl Operator {
            pub const ALL: &'static [Operator] = &[$( Operator::$variant, )*];

            /// The JSON key without a `Path` suffix.
            pub fn name(self) -> &'static str {
                match self {
                    $( Operator::$variant => stringify!($variant), )*
                }
            }

            /// The operand type of the literal form.
            pub fn operand_kind(self) -> OperandKind {
                match self {
                    $( Operator::$variant => OperandKind::$kind, )*
                }
            }

            /// Whether a `...Path` variant exists (not for `StringMatches` nor the `Is*` tests).
            pub fn has_path_variant(self) -> bool {
                match self {
                    $( Operator::$variant => $has_path, )*
                }
            }
        }
    };
}

operators! {
    StringEquals => String, true;
    StringLessThan => String, true;
    StringGreaterThan => String, true;
    StringLessThanEquals => String, true;
    StringGreaterThanEquals => String, true;
    StringMatches => String, false;
    NumericEquals => Number, true;
    NumericLessThan => Number, true;
    NumericGreaterThan => Number, true;
    NumericLessThanEquals => Number, true;
    NumericGreaterThanEquals => Number, true;
    BooleanEquals => Bool, true;
    TimestampEquals => String, true;
    TimestampLessThan => String, true;
    TimestampGreaterThan => String, true;
    TimestampLessThanEquals => String, true;
    TimestampGreaterThanEquals => String, true;
    IsNull => Bool, false;
    IsPresent => Bool, false;
    IsNumeric => Bool, false;
    IsString => Bool, false;
    IsBoolean => Bool, false;
    IsTimestamp => Bool, false;
}

impl Operator {
    /// Reads a JSON key: `(operator, is_path_variant)`.
    pub fn from_key(key: &str) -> Option<(Operator, bool)> {
        if let Some(op) = Operator::ALL.iter().find(|op| op.name() == key) {
            return Some((*op, false));
        }
        let base = key.strip_suffix("Path")?;
        Operator::ALL
            .iter()
            .find(|op| op.name() == base && op.has_path_variant())
            .map(|op| (*op, true))
    }
}

impl Condition {
    /// Reads a rule; `nested` rules may not carry `Next` or `Comment`.
    fn from_json(json: &Map<String, Value>, nested: bool) -> Condition {
        match Self::try_from_json(json, nested) {
            Ok(condition) => condition,
            Err(reason) => Condition::Malformed {
                json: Value::Object(json.clone()),
                reason,
            },
        }
    }

    fn try_from_json(json: &Map<String, Value>, nested: bool) -> Result<Condition, String> {
        let mut variable = None;
        let mut found: Vec<(&str, &Value)> = Vec::new();
        for (key, value) in json {
            match key.as_str() {
                "Variable" => match value {
                    Value::String(path) => variable = Some(path.clone()),
                    _ => return Err("`Variable` must be a string (a reference path)".into()),
                },
                "Next" | "Comment" if nested => {
                    return Err(format!(
                        "a nested rule (inside And/Or/Not) cannot have `{key}`"
                    ));
                }
                "Next" | "Comment" => {}
                "And" | "Or" | "Not" => found.push((key, value)),
                other if Operator::from_key(other).is_some() => found.push((key, value)),
                other => return Err(format!("unknown field `{other}` in a choice rule")),
            }
        }
        let (key, value) = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(
                    "a choice rule needs one comparison operator, or And, Or or Not".into(),
                );
            }
            many => {
                let keys: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "a choice rule has exactly one operator, found {}",
                    keys.join(", ")
                ));
            }
        };
        let nested_list = |value: &Value| -> Result<Vec<Condition>, String> {
            let items = value
                .as_array()
                .ok_or_else(|| format!("`{key}` must be an array of rules"))?;
            if items.is_empty() {
                return Err(format!("`{key}` must not be empty"));
            }
            items
                .iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(Condition::from_json(map, true)),
                    _ => Err(format!("`{key}` must contain rule objects")),
                })
                .collect()
        };
        if matches!(key, "And" | "Or" | "Not") {
            if variable.is_some() {
                return Err(format!("`{key}` cannot be combined with `Variable`"));
            }
            return Ok(match key {
                "And" => Condition::And(nested_list(value)?),
                "Or" => Condition::Or(nested_list(value)?),
                _ => match value {
                    Value::Object(map) => Condition::Not(Box::new(Condition::from_json(map, true))),
                    _ => return Err("`Not` must be a rule object".into()),
                },
            });
        }
        let Some((operator, is_path)) = Operator::from_key(key) else {
            return Err(format!("unknown operator `{key}`"));
        };
        let Some(variable) = variable else {
            return Err(format!("`{key}` needs a `Variable`"));
        };
        let operand = match (is_path, operator.operand_kind(), value) {
            (true, _, Value::String(path)) => Operand::Path(path.clone()),
            (true, _, _) => return Err(format!("`{key}` must be a string (a reference path)")),
            (false, OperandKind::String, Value::String(s)) => Operand::String(s.clone()),
            (false, OperandKind::Number, Value::Number(n)) => Operand::Number(n.clone()),
            (false, OperandKind::Bool, Value::Bool(b)) => Operand::Bool(*b),
            (false, kind, _) => {
                let expected = match kind {
                    OperandKind::String => "a string",
                    OperandKind::Number => "a number",
                    OperandKind::Bool => "a boolean",
                };
                return Err(format!("`{key}` must be {expected}"));
            }
        };
        Ok(Condition::Compare(Comparison {
            variable,
            operator,
            operand,
        }))
    }

    /// Writes the rule's own keys (not `Next`/`Comment`) into `map`.
    fn write_json(&self, map: &mut Map<String, Value>) {
        match self {
            Condition::And(items) => {
                map.insert(
                    "And".into(),
                    Value::Array(items.iter().map(Self::to_json).collect()),
                );
            }
            Condition::Or(items) => {
                map.insert(
                    "Or".into(),
                    Value::Array(items.iter().map(Self::to_json).collect()),
                );
            }
            Condition::Not(inner) => {
                map.insert("Not".into(), inner.to_json());
            }
            Condition::Compare(comparison) => {
                map.insert(
                    "Variable".into(),
                    Value::String(comparison.variable.clone()),
                );
                let operand = match &comparison.operand {
                    Operand::String(s) | Operand::Path(s) => Value::String(s.clone()),
                    Operand::Number(n) => Value::Number(n.clone()),
                    Operand::Bool(b) => Value::Bool(*b),
                };
                map.insert(comparison.key(), operand);
            }
            Condition::Malformed { json, .. } => {
                if let Value::Object(fields) = json {
                    for (k, v) in fields {
                        map.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }

    /// The rule as JSON.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        self.write_json(&mut map);
        Value::Object(map)
    }

    /// Every comparison in the rule, depth first.
    pub fn comparisons(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        self.visit(&mut |c| {
            if let Condition::Compare(comparison) = c {
                out.push(comparison);
            }
        });
        out
    }

    /// Calls `f` on this condition and every nested one, depth first.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Condition)) {
        f(self);
        match self {
            Condition::And(items) | Condition::Or(items) => items.iter().for_each(|c| c.visit(f)),
            Condition::Not(inner) => inner.visit(f),
            Condition::Compare(_) | Condition::Malformed { .. } => {}
        }
    }

    pub fn compare(variable: impl Into<String>, operator: Operator, operand: Operand) -> Self {
        Condition::Compare(Comparison {
            variable: variable.into(),
            operator,
            operand,
        })
    }

    pub fn and(conditions: Vec<Condition>) -> Self {
        Condition::And(conditions)
    }

    pub fn or(conditions: Vec<Condition>) -> Self {
        Condition::Or(conditions)
    }

    #[allow(clippy::should_implement_trait)] // a constructor named after the JSON key, not `!`
    pub fn not(condition: Condition) -> Self {
        Condition::Not(Box::new(condition))
    }

    /// `"Variable": variable, "StringEquals": value`.
    pub fn string_equals(variable: impl Into<String>, value: impl Into<String>) -> Self {
        Self::compare(
            variable,
            Operator::StringEquals,
            Operand::String(value.into()),
        )
    }

    /// `"Variable": variable, "NumericEquals": value`.
    pub fn numeric_equals(variable: impl Into<String>, value: impl Into<Number>) -> Self {
        Self::compare(
            variable,
            Operator::NumericEquals,
            Operand::Number(value.into()),
        )
    }

    /// `"Variable": variable, "BooleanEquals": value`.
    pub fn boolean_equals(variable: impl Into<String>, value: bool) -> Self {
        Self::compare(variable, Operator::BooleanEquals, Operand::Bool(value))
    }

    /// `"Variable": variable, "IsPresent": present`.
    pub fn is_present(variable: impl Into<String>, present: bool) -> Self {
        Self::compare(variable, Operator::IsPresent, Operand::Bool(present))
    }

    /// Makes this the top-level rule going to `next`.
    pub fn then(self, next: impl Into<String>) -> ChoiceRule {
        ChoiceRule {
            condition: self,
            next: Some(next.into()),
            comment: None,
        }
    }
}

impl Serialize for ChoiceRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields = Map::new();
        let malformed_has = |key: &str| match &self.condition {
            Condition::Malformed {
                json: Value::Object(m),
                ..
            } => m.contains_key(key),
            _ => false,
        };
        self.condition.write_json(&mut fields);
        let mut map = serializer.serialize_map(None)?;
        if let Some(comment) = &self.comment
            && !malformed_has("Comment")
        {
            map.serialize_entry("Comment", comment)?;
        }
        for (k, v) in &fields {
            map.serialize_entry(k, v)?;
        }
        if let Some(next) = &self.next
            && !malformed_has("Next")
        {
            map.serialize_entry("Next", next)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ChoiceRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Map::<String, Value>::deserialize(deserializer)?;
        let next = match json.get("Next") {
            None => None,
            Some(Value::String(next)) => Some(next.clone()),
            Some(_) => return Err(D::Error::custom("a choice rule's `Next` must be a string")),
        };
        let comment = match json.get("Comment") {
            None => None,
            Some(Value::String(comment)) => Some(comment.clone()),
            Some(_) => {
                return Err(D::Error::custom(
                    "a choice rule's `Comment` must be a string",
                ));
            }
        };
        let condition = Condition::from_json(&json, false);
        Ok(ChoiceRule {
            condition,
            next,
            comment,
        })
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Map::<String, Value>::deserialize(deserializer)?;
        Ok(Condition::from_json(&json, true))
    }
}
