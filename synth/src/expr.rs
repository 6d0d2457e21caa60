//! CloudFormation values: literals and intrinsic functions, as one small typed enum.
//!
//! Every property that CloudFormation lets an intrinsic stand in for is typed [`Expr`], so a literal, a
//! `Ref`, an `Fn::GetAtt` or an `Fn::Sub` fit in the same place. References to resources, parameters and
//! conditions carry the identity of the template that issued them; the template checks every one at synth
//! (see [`crate::Template::to_document`]), so a handle from another template, or a name that does not
//! exist, fails synth with a message instead of producing a template CloudFormation would reject.

use std::cell::RefCell;

use indexmap::IndexMap;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Identity of one [`crate::Template`]; handles remember which template issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateId(pub(crate) u64);

/// What a logical id names, so a reference can be checked against the right table of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    Resource,
    Parameter,
    Condition,
}

/// A logical id inside a given template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub(crate) template: TemplateId,
    pub(crate) kind: TargetKind,
    pub(crate) logical_id: String,
}

impl Target {
    pub fn logical_id(&self) -> &str {
        &self.logical_id
    }

    pub fn kind(&self) -> TargetKind {
        self.kind
    }
}

/// CloudFormation's pseudo parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pseudo {
    AccountId,
    NoValue,
    NotificationArns,
    Partition,
    Region,
    StackId,
    StackName,
    UrlSuffix,
}

impl Pseudo {
    pub const ALL: [Pseudo; 8] = [
        Pseudo::AccountId,
        Pseudo::NoValue,
        Pseudo::NotificationArns,
        Pseudo::Partition,
        Pseudo::Region,
        Pseudo::StackId,
        Pseudo::StackName,
        Pseudo::UrlSuffix,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::NoValue => "AWS::NoValue",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }

    pub fn from_name(name: &str) -> Option<Pseudo> {
        Pseudo::ALL.into_iter().find(|pseudo| pseudo.name() == name)
    }
}

/// A CloudFormation value: a literal or an intrinsic function.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    Bool(bool),
    /// `{"Ref": id}` to a resource or parameter of the template (build it from a handle).
    Ref(Target),
    /// `{"Ref": "AWS::Region"}` and friends.
    Pseudo(Pseudo),
    /// `{"Fn::GetAtt": [id, attribute]}` (build it from a handle: only the type's attributes exist).
    GetAtt(Target, &'static str),
    /// `{"Fn::Sub": string}` or `{"Fn::Sub": [string, {variables}]}`. Every `${Name}` in the string must be
    /// a pseudo parameter or one of the variables: resources are reached through typed variables only.
    Sub(String, IndexMap<String, Expr>),
    /// `{"Fn::Join": [separator, [parts]]}`.
    Join(String, Vec<Expr>),
    /// `{"Fn::Select": [index, list]}` over a list value.
    Select(u32, Box<Expr>),
    /// `{"Fn::Split": [separator, source]}`, a list value.
    Split(String, Box<Expr>),
    /// `{"Fn::If": [condition, then, else]}`.
    If(Target, Box<Expr>, Box<Expr>),
    /// A literal list of values.
    List(Vec<Expr>),
}

impl Expr {
    pub fn str(value: impl Into<String>) -> Expr {
        Expr::Str(value.into())
    }

    pub fn pseudo(pseudo: Pseudo) -> Expr {
        Expr::Pseudo(pseudo)
    }

    /// `Fn::Sub` without variables: only pseudo parameters may appear in `template`.
    pub fn sub(template: impl Into<String>) -> Expr {
        Expr::Sub(template.into(), IndexMap::new())
    }

    /// `Fn::Sub` with variables bound to typed values.
    pub fn sub_with<K: Into<String>>(
        template: impl Into<String>,
        variables: impl IntoIterator<Item = (K, Expr)>,
    ) -> Expr {
        Expr::Sub(
            template.into(),
            variables
                .into_iter()
                .map(|(name, value)| (name.into(), value))
                .collect(),
        )
    }

    pub fn join(separator: impl Into<String>, parts: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Join(separator.into(), parts.into_iter().collect())
    }

    pub fn select(index: u32, list: Expr) -> Expr {
        Expr::Select(index, Box::new(list))
    }

    pub fn split(separator: impl Into<String>, source: Expr) -> Expr {
        Expr::Split(separator.into(), Box::new(source))
    }

    /// The literal string, when this value is one.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            Expr::Str(value) => Some(value),
            _ => None,
        }
    }
}

impl From<&str> for Expr {
    fn from(value: &str) -> Expr {
        Expr::Str(value.to_owned())
    }
}

impl From<String> for Expr {
    fn from(value: String) -> Expr {
        Expr::Str(value)
    }
}

impl From<i64> for Expr {
    fn from(value: i64) -> Expr {
        Expr::Int(value)
    }
}

impl From<bool> for Expr {
    fn from(value: bool) -> Expr {
        Expr::Bool(value)
    }
}

impl From<Pseudo> for Expr {
    fn from(value: Pseudo) -> Expr {
        Expr::Pseudo(value)
    }
}

/// A condition expression (the `Conditions` section, and `Fn::If`'s first argument by name).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Equals(Expr, Expr),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// `{"Condition": name}`: another named condition of the template.
    Named(Target),
}

impl Condition {
    pub fn equals(left: impl Into<Expr>, right: impl Into<Expr>) -> Condition {
        Condition::Equals(left.into(), right.into())
    }
}

/// `!condition` is `Fn::Not`.
impl std::ops::Not for Condition {
    type Output = Condition;

    fn not(self) -> Condition {
        Condition::Not(Box::new(self))
    }
}

/// A use of a logical id or a problem found while serializing, recorded for the template's checks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Use {
    Target(Target),
    UnboundSubVariable { template: String, variable: String },
}

thread_local! {
    /// Set while the template serializes one of its parts: every reference met is recorded here, so the
    /// template can check them without each resource type having to list its references by hand.
    static RECORDER: RefCell<Option<Vec<Use>>> = const { RefCell::new(None) };
}

/// Runs `serialize` and returns what it produced with every reference its values made.
pub(crate) fn record_uses<T>(serialize: impl FnOnce() -> T) -> (T, Vec<Use>) {
    let previous = RECORDER.with(|recorder| recorder.borrow_mut().replace(Vec::new()));
    let produced = serialize();
    let uses = RECORDER.with(|recorder| {
        let mut recorder = recorder.borrow_mut();
        let uses = recorder.take().unwrap_or_default();
        *recorder = previous;
        uses
    });
    (produced, uses)
}

fn record(used: Use) {
    RECORDER.with(|recorder| {
        if let Some(uses) = recorder.borrow_mut().as_mut() {
            uses.push(used);
        }
    });
}

/// The `${Name}` variables of an `Fn::Sub` string (`${!Literal}` is an escape, not a variable).
pub fn sub_variables(template: &str) -> Vec<&str> {
    let mut variables = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            variables.push(name);
        }
        rest = &after[end + 1..];
    }
    variables
}

fn single<S: Serializer, V: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// Serializes a list of heterogeneous items (`[separator, [parts]]` and the like) without allocating.
struct Pair<'a, A: ?Sized, B: ?Sized>(&'a A, &'a B);

impl<A: Serialize + ?Sized, B: Serialize + ?Sized> Serialize for Pair<'_, A, B> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(2))?;
        seq.serialize_element(self.0)?;
        seq.serialize_element(self.1)?;
        seq.end()
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(value) => serializer.serialize_str(value),
            Expr::Int(value) => serializer.serialize_i64(*value),
            Expr::Bool(value) => serializer.serialize_bool(*value),
            Expr::Ref(target) => {
                record(Use::Target(target.clone()));
                single(serializer, "Ref", &target.logical_id)
            }
            Expr::Pseudo(pseudo) => single(serializer, "Ref", pseudo.name()),
            Expr::GetAtt(target, attribute) => {
                record(Use::Target(target.clone()));
                single(
                    serializer,
                    "Fn::GetAtt",
                    &Pair(target.logical_id.as_str(), *attribute),
                )
            }
            Expr::Sub(template, variables) => {
                for variable in sub_variables(template) {
                    if Pseudo::from_name(variable).is_none() && !variables.contains_key(variable) {
                        record(Use::UnboundSubVariable {
                            template: template.clone(),
                            variable: variable.to_owned(),
                        });
                    }
                }
                if variables.is_empty() {
                    single(serializer, "Fn::Sub", template)
                } else {
                    single(serializer, "Fn::Sub", &Pair(template, variables))
                }
            }
            Expr::Join(separator, parts) => single(serializer, "Fn::Join", &Pair(separator, parts)),
            Expr::Select(index, list) => single(serializer, "Fn::Select", &Pair(index, list)),
            Expr::Split(separator, source) => {
                single(serializer, "Fn::Split", &Pair(separator, source))
            }
            Expr::If(condition, then, otherwise) => {
                record(Use::Target(condition.clone()));
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("Fn::If", &(condition.logical_id.as_str(), then, otherwise))?;
                map.end()
            }
            Expr::List(items) => items.serialize(serializer),
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Condition::Equals(left, right) => single(serializer, "Fn::Equals", &Pair(left, right)),
            Condition::Not(inner) => single(serializer, "Fn::Not", &[inner]),
            Condition::And(all) => single(serializer, "Fn::And", all),
            Condition::Or(any) => single(serializer, "Fn::Or", any),
            Condition::Named(target) => {
                record(Use::Target(target.clone()));
                single(serializer, "Condition", &target.logical_id)
            }
        }
    }
}
