//! Reads a CloudFormation template (YAML or JSON, intrinsics in long or short form) and resolves it into a
//! [`Stack`]: every resource with its properties resolved to the local physical names and ARNs a real
//! deployment in account `000000000000` would have.
//!
//! The model is deliberately generic (`serde_json::Value` properties): the emulator serves whatever the
//! template describes, and each service module reads the properties it needs with errors that name the
//! resource and the property.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The account every local ARN is in.
pub const ACCOUNT_ID: &str = "000000000000";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template {path} is neither valid JSON nor valid YAML: {message}")]
    Parse { path: String, message: String },
    #[error("template: {0}")]
    Structure(String),
    #[error("resource {resource}, property {property}: {message}")]
    Property {
        resource: String,
        property: String,
        message: String,
    },
}

/// Where a value being resolved lives, for error messages.
#[derive(Debug, Clone)]
struct Location {
    resource: String,
    property: String,
}

impl Location {
    fn error(&self, message: impl Into<String>) -> TemplateError {
        TemplateError::Property {
            resource: self.resource.clone(),
            property: if self.property.is_empty() {
                "(root)".to_string()
            } else {
                self.property.clone()
            },
            message: message.into(),
        }
    }
    fn child(&self, key: &str) -> Location {
        Location {
            resource: self.resource.clone(),
            property: if self.property.is_empty() {
                key.to_string()
            } else {
                format!("{}.{}", self.property, key)
            },
        }
    }
}

/// Deployment-time settings: what a real `aws cloudformation deploy` would take from the account, the
/// region and the command line.
#[derive(Debug, Clone)]
pub struct DeployContext {
    pub region: String,
    pub stack_name: String,
    pub parameter_overrides: HashMap<String, String>,
}

impl Default for DeployContext {
    fn default() -> Self {
        DeployContext {
            region: "us-east-1".to_string(),
            stack_name: "local".to_string(),
            parameter_overrides: HashMap::new(),
        }
    }
}

/// One resource after resolution.
#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    /// Properties with every intrinsic resolved (`AWS::NoValue` entries removed).
    pub properties: Value,
    /// Metadata, resolved like properties.
    pub metadata: Value,
    /// What `Ref` returns for this resource.
    pub reference: String,
}

impl Resource {
    fn location(&self, property: &str) -> Location {
        Location {
            resource: self.logical_id.clone(),
            property: property.to_string(),
        }
    }

    /// A property by dotted path, if present.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.')
            .try_fold(&self.properties, |value, key| value.get(key))
    }

    /// A required string property.
    pub fn str(&self, path: &str) -> Result<&str, TemplateError> {
        match self.get(path) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self
                .location(path)
                .error(format!("expected a string, found {other}"))),
            None => Err(self.location(path).error("required property is missing")),
        }
    }

    /// An optional string property.
    pub fn opt_str(&self, path: &str) -> Result<Option<&str>, TemplateError> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self
                .location(path)
                .error(format!("expected a string, found {other}"))),
        }
    }

    /// An optional integer property (CloudFormation accepts numbers as strings too).
    pub fn opt_u64(&self, path: &str) -> Result<Option<u64>, TemplateError> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
                self.location(path)
                    .error(format!("expected a non-negative integer, found {s:?}"))
            }),
            Some(other) => Err(self
                .location(path)
                .error(format!("expected a non-negative integer, found {other}"))),
        }
    }

    /// An error about one of this resource's properties.
    pub fn error(&self, property: &str, message: impl Into<String>) -> TemplateError {
        self.location(property).error(message)
    }
}

/// A resolved template.
#[derive(Debug, Clone)]
pub struct Stack {
    pub context: DeployContext,
    pub description: Option<String>,
    pub parameters: IndexMap<String, Value>,
    pub resources: IndexMap<String, Resource>,
    pub outputs: IndexMap<String, Value>,
}

impl Stack {
    /// Reads and resolves a template file (JSON or YAML, by content).
    pub fn load(path: &Path, context: DeployContext) -> Result<Stack, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let document = parse_document(&text).map_err(|message| TemplateError::Parse {
            path: path.display().to_string(),
            message,
        })?;
        Stack::from_document(document, context)
    }

    /// Resolves a parsed template document.
    pub fn from_document(document: Value, context: DeployContext) -> Result<Stack, TemplateError> {
        let Value::Object(root) = document else {
            return Err(TemplateError::Structure(
                "the document is not a mapping".into(),
            ));
        };
        let section = |name: &str| -> Result<Map<String, Value>, TemplateError> {
            match root.get(name) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(map)) => Ok(map.clone()),
                Some(_) => Err(TemplateError::Structure(format!(
                    "section {name} is not a mapping"
                ))),
            }
        };
        let raw_resources = section("Resources")?;
        if raw_resources.is_empty() {
            return Err(TemplateError::Structure(
                "the template has no Resources".into(),
            ));
        }
        let mut resolver = Resolver {
            context: context.clone(),
            parameters: HashMap::new(),
            mappings: section("Mappings")?,
            raw_conditions: section("Conditions")?,
            conditions: HashMap::new(),
            raw_resources: raw_resources.clone(),
            references: HashMap::new(),
            in_progress: HashSet::new(),
        };
        resolver.resolve_parameters(&section("Parameters")?)?;

        let mut resources = IndexMap::new();
        for (logical_id, raw) in &raw_resources {
            let location = Location {
                resource: logical_id.clone(),
                property: String::new(),
            };
            let Value::Object(raw) = raw else {
                return Err(location.error("a resource must be a mapping"));
            };
            if let Some(condition) = raw.get("Condition") {
                let Value::String(name) = condition else {
                    return Err(location
                        .child("Condition")
                        .error("must be a condition name"));
                };
                if !resolver.condition(name, &location.child("Condition"))? {
                    continue;
                }
            }
            let resource_type = match raw.get("Type") {
                Some(Value::String(t)) => t.clone(),
                _ => return Err(location.child("Type").error("missing resource Type")),
            };
            let properties = match raw.get("Properties") {
                Some(p) => resolver
                    .resolve(p, &location.child("Properties"))?
                    .unwrap_or(Value::Object(Map::new())),
                None => Value::Object(Map::new()),
            };
            let metadata = match raw.get("Metadata") {
                Some(m) => resolver
                    .resolve(m, &location.child("Metadata"))?
                    .unwrap_or(Value::Null),
                None => Value::Null,
            };
            let reference = resolver.reference(logical_id, &location)?;
            resources.insert(
                logical_id.clone(),
                Resource {
                    logical_id: logical_id.clone(),
                    resource_type,
                    properties,
                    metadata,
                    reference,
                },
            );
        }

        let mut outputs = IndexMap::new();
        for (name, raw) in section("Outputs")? {
            let location = Location {
                resource: format!("Outputs.{name}"),
                property: String::new(),
            };
            if let Some(Value::String(condition)) = raw.get("Condition")
                && !resolver.condition(condition, &location)?
            {
                continue;
            }
            if let Some(value) = raw.get("Value") {
                let resolved = resolver
                    .resolve(value, &location.child("Value"))?
                    .unwrap_or(Value::Null);
                outputs.insert(name, resolved);
            }
        }

        let parameters = resolver.parameters.into_iter().collect();
        Ok(Stack {
            context,
            description: root
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_string),
            parameters,
            resources,
            outputs,
        })
    }

    /// Resources of one type, in template order.
    pub fn of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .values()
            .filter(move |r| r.resource_type == resource_type)
    }

    /// The resource whose `Ref` or `Arn` is `value` (how resolved properties point at each other).
    pub fn find_by_reference(&self, resource_type: &str, value: &str) -> Option<&Resource> {
        self.resources.values().find(|r| {
            r.resource_type == resource_type
                && (r.reference == value
                    || physical_attribute(&self.context, r, "Arn").as_deref() == Ok(value))
        })
    }

    /// An attribute (`Fn::GetAtt`) of a resolved resource.
    pub fn attribute(&self, resource: &Resource, attribute: &str) -> Result<String, TemplateError> {
        physical_attribute(&self.context, resource, attribute)
            .map_err(|message| resource.error(attribute, message))
    }

    pub fn region(&self) -> &str {
        &self.context.region
    }
}

/// Parses JSON, or YAML with CloudFormation's short-form tags turned into long-form intrinsics.
pub fn parse_document(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    let yaml: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    yaml_to_json(yaml)
}

fn yaml_to_json(value: yaml_serde::Value) -> Result<Value, String> {
    use yaml_serde::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else if let Some(f) = n.as_f64() {
                json!(f)
            } else {
                return Err(format!("unsupported number {n}"));
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                map.insert(key, yaml_to_json(value)?);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value)?;
            let key = match name {
                "Ref" => "Ref".to_string(),
                "Condition" => "Condition".to_string(),
                "GetAtt" => {
                    // `!GetAtt Resource.Attribute` is the string form of `Fn::GetAtt: [Resource, Attribute]`.
                    let inner = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((r, a)) => json!([r, a]),
                            None => {
                                return Err(format!("!GetAtt {s}: expected Resource.Attribute"));
                            }
                        },
                        other => other,
                    };
                    return Ok(json!({ "Fn::GetAtt": inner }));
                }
                other => format!("Fn::{other}"),
            };
            let mut map = Map::new();
            map.insert(key, inner);
            Value::Object(map)
        }
    })
}

/// Resolves intrinsics; caches each resource's `Ref` value (physical names may themselves use intrinsics).
struct Resolver {
    context: DeployContext,
    parameters: HashMap<String, Value>,
    mappings: Map<String, Value>,
    raw_conditions: Map<String, Value>,
    conditions: HashMap<String, bool>,
    raw_resources: Map<String, Value>,
    references: HashMap<String, String>,
    in_progress: HashSet<String>,
}

impl Resolver {
    fn resolve_parameters(&mut self, declared: &Map<String, Value>) -> Result<(), TemplateError> {
        for name in self.context.parameter_overrides.keys() {
            if !declared.contains_key(name) {
                return Err(TemplateError::Structure(format!(
                    "parameter override {name} is not a parameter of the template (it has: {})",
                    declared.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        for (name, declaration) in declared {
            let location = Location {
                resource: format!("Parameters.{name}"),
                property: String::new(),
            };
            let given = self.context.parameter_overrides.get(name).cloned();
            let default = declaration.get("Default").map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let Some(text) = given.or(default) else {
                return Err(location
                    .error("the parameter has no Default: give it with --parameter NAME=VALUE"));
            };
            if let Some(Value::Array(allowed)) = declaration.get("AllowedValues")
                && !allowed.iter().any(|a| {
                    a.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| a.to_string())
                        == text
                })
            {
                return Err(location.error(format!(
                    "value {text:?} is not one of the AllowedValues {}",
                    Value::Array(allowed.clone())
                )));
            }
            let kind = declaration
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("String");
            let value = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
                Value::Array(
                    text.split(',')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                )
            } else {
                Value::String(text)
            };
            self.parameters.insert(name.clone(), value);
        }
        Ok(())
    }

    fn condition(&mut self, name: &str, at: &Location) -> Result<bool, TemplateError> {
        if let Some(value) = self.conditions.get(name) {
            return Ok(*value);
        }
        let key = format!("condition {name}");
        if !self.in_progress.insert(key.clone()) {
            return Err(at.error(format!("condition {name} depends on itself")));
        }
        let Some(raw) = self.raw_conditions.get(name).cloned() else {
            return Err(at.error(format!("no condition named {name} in Conditions")));
        };
        let location = Location {
            resource: format!("Conditions.{name}"),
            property: String::new(),
        };
        let value = self.condition_value(&raw, &location)?;
        self.in_progress.remove(&key);
        self.conditions.insert(name.to_string(), value);
        Ok(value)
    }

    fn condition_value(&mut self, raw: &Value, at: &Location) -> Result<bool, TemplateError> {
        let Some((function, argument)) = single_key(raw) else {
            return Err(at.error(format!("not a condition function: {raw}")));
        };
        let list = |count: Option<usize>| -> Result<&Vec<Value>, TemplateError> {
            match argument {
                Value::Array(items) if count.is_none_or(|c| items.len() == c) => Ok(items),
                _ => Err(at.error(format!("{function}: wrong arguments {argument}"))),
            }
        };
        match function {
            "Condition" => match argument {
                Value::String(name) => self.condition(name, at),
                _ => Err(at.error("Condition: expected a condition name")),
            },
            "Fn::Equals" => {
                let items = list(Some(2))?.clone();
                let a = self.resolve(&items[0], &at.child("Fn::Equals"))?;
                let b = self.resolve(&items[1], &at.child("Fn::Equals"))?;
                Ok(scalar_text(a.as_ref()) == scalar_text(b.as_ref()))
            }
            "Fn::Not" => {
                let items = list(Some(1))?.clone();
                Ok(!self.condition_value(&items[0], at)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = list(None)?.clone();
                let mut results = Vec::new();
                for item in &items {
                    results.push(self.condition_value(item, at)?);
                }
                Ok(if function == "Fn::And" {
                    results.iter().all(|b| *b)
                } else {
                    results.iter().any(|b| *b)
                })
            }
            other => Err(at.error(format!("{other} is not a condition function"))),
        }
    }

    /// What `Ref` gives for a resource; computed once, from its name property when it has one.
    fn reference(&mut self, logical_id: &str, at: &Location) -> Result<String, TemplateError> {
        if let Some(known) = self.references.get(logical_id) {
            return Ok(known.clone());
        }
        let Some(raw) = self.raw_resources.get(logical_id).cloned() else {
            return Err(at.error(format!("no resource or parameter named {logical_id}")));
        };
        if !self.in_progress.insert(logical_id.to_string()) {
            return Err(at.error(format!(
                "circular reference: resource {logical_id} needs its own name"
            )));
        }
        let resource_type = raw.get("Type").and_then(Value::as_str).unwrap_or("");
        let location = Location {
            resource: logical_id.to_string(),
            property: "Properties".to_string(),
        };
        let name_property = name_property(resource_type);
        let explicit_name = match name_property.and_then(|p| raw.get("Properties")?.get(p)) {
            Some(value) => {
                match self.resolve(value, &location.child(name_property.unwrap_or("")))? {
                    Some(Value::String(s)) => Some(s),
                    Some(other) => Some(scalar_text(Some(&other))),
                    None => None,
                }
            }
            None => None,
        };
        self.in_progress.remove(logical_id);
        let reference = reference_value(&self.context, logical_id, resource_type, explicit_name);
        self.references
            .insert(logical_id.to_string(), reference.clone());
        Ok(reference)
    }

    /// Resolves every intrinsic in `value`. `None` means `AWS::NoValue`: the caller drops the entry.
    fn resolve(&mut self, value: &Value, at: &Location) -> Result<Option<Value>, TemplateError> {
        match value {
            Value::Object(map) => {
                if let Some((function, argument)) = single_key(value)
                    && (function == "Ref" || function.starts_with("Fn::"))
                {
                    return self.intrinsic(function, argument, &at.child(function));
                }
                let mut out = Map::new();
                for (key, item) in map {
                    if let Some(resolved) = self.resolve(item, &at.child(key))? {
                        out.insert(key.clone(), resolved);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Value::Array(items) => {
                let mut out = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    if let Some(resolved) = self.resolve(item, &at.child(&index.to_string()))? {
                        out.push(resolved);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn resolve_required(&mut self, value: &Value, at: &Location) -> Result<Value, TemplateError> {
        self.resolve(value, at)?
            .ok_or_else(|| at.error("AWS::NoValue is not allowed here"))
    }

    fn resolve_string(&mut self, value: &Value, at: &Location) -> Result<String, TemplateError> {
        match self.resolve_required(value, at)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(at.error(format!("expected a string, found {other}"))),
        }
    }

    fn intrinsic(
        &mut self,
        function: &str,
        argument: &Value,
        at: &Location,
    ) -> Result<Option<Value>, TemplateError> {
        let args = |count: usize| -> Result<&Vec<Value>, TemplateError> {
            match argument {
                Value::Array(items) if items.len() == count => Ok(items),
                _ => Err(at.error(format!(
                    "{function} takes a list of {count} arguments, found {argument}"
                ))),
            }
        };
        match function {
            "Ref" => {
                let Value::String(name) = argument else {
                    return Err(at.error(format!("Ref takes a name, found {argument}")));
                };
                if name == "AWS::NoValue" {
                    return Ok(None);
                }
                self.lookup(name, None, at).map(Some)
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match argument {
                    Value::Array(items) if items.len() == 2 => {
                        let resource = items[0]
                            .as_str()
                            .ok_or_else(|| at.error("Fn::GetAtt: the resource must be a name"))?
                            .to_string();
                        let attribute = self.resolve_string(&items[1], at)?;
                        (resource, attribute)
                    }
                    Value::String(s) => match s.split_once('.') {
                        Some((r, a)) => (r.to_string(), a.to_string()),
                        None => {
                            return Err(
                                at.error(format!("Fn::GetAtt {s}: expected Resource.Attribute"))
                            );
                        }
                    },
                    _ => return Err(at.error(format!("Fn::GetAtt: wrong arguments {argument}"))),
                };
                self.lookup(&resource, Some(&attribute), at).map(Some)
            }
            "Fn::Sub" => {
                let (text, variables) = match argument {
                    Value::String(s) => (s.clone(), Map::new()),
                    Value::Array(items) if items.len() == 2 => {
                        let text = items[0]
                            .as_str()
                            .ok_or_else(|| {
                                at.error("Fn::Sub: the first argument must be a string")
                            })?
                            .to_string();
                        let mut variables = Map::new();
                        let Value::Object(raw) = &items[1] else {
                            return Err(at.error("Fn::Sub: the second argument must be a mapping"));
                        };
                        for (name, value) in raw {
                            let resolved = self.resolve_required(value, &at.child(name))?;
                            variables.insert(name.clone(), resolved);
                        }
                        (text, variables)
                    }
                    _ => return Err(at.error(format!("Fn::Sub: wrong arguments {argument}"))),
                };
                self.substitute(&text, &variables, at)
                    .map(|s| Some(Value::String(s)))
            }
            "Fn::Join" => {
                let items = args(2)?.clone();
                let delimiter = items[0]
                    .as_str()
                    .ok_or_else(|| at.error("Fn::Join: the delimiter must be a string"))?
                    .to_string();
                let list = match self.resolve_required(&items[1], at)? {
                    Value::Array(list) => list,
                    other => {
                        return Err(at.error(format!("Fn::Join: expected a list, found {other}")));
                    }
                };
                let parts: Vec<String> = list.iter().map(|v| scalar_text(Some(v))).collect();
                Ok(Some(Value::String(parts.join(&delimiter))))
            }
            "Fn::Select" => {
                let items = args(2)?.clone();
                let index = self.resolve_string(&items[0], at)?;
                let index: usize = index.parse().map_err(|_| {
                    at.error(format!("Fn::Select: index {index:?} is not a number"))
                })?;
                match self.resolve_required(&items[1], at)? {
                    Value::Array(list) => list.get(index).cloned().map(Some).ok_or_else(|| {
                        at.error(format!(
                            "Fn::Select: index {index} out of a list of {}",
                            list.len()
                        ))
                    }),
                    other => Err(at.error(format!("Fn::Select: expected a list, found {other}"))),
                }
            }
            "Fn::Split" => {
                let items = args(2)?.clone();
                let delimiter = items[0]
                    .as_str()
                    .ok_or_else(|| at.error("Fn::Split: the delimiter must be a string"))?
                    .to_string();
                let text = self.resolve_string(&items[1], at)?;
                Ok(Some(Value::Array(
                    text.split(delimiter.as_str())
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                )))
            }
            "Fn::If" => {
                let items = args(3)?.clone();
                let name = items[0]
                    .as_str()
                    .ok_or_else(|| at.error("Fn::If: the first argument must be a condition name"))?
                    .to_string();
                let branch = if self.condition(&name, at)? {
                    &items[1]
                } else {
                    &items[2]
                };
                self.resolve(branch, at)
            }
            "Fn::FindInMap" => {
                let items = args(3)?.clone();
                let map = self.resolve_string(&items[0], at)?;
                let top = self.resolve_string(&items[1], at)?;
                let second = self.resolve_string(&items[2], at)?;
                self.mappings
                    .get(&map)
                    .and_then(|m| m.get(&top))
                    .and_then(|m| m.get(&second))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| {
                        at.error(format!(
                            "Fn::FindInMap: no {map}.{top}.{second} in Mappings"
                        ))
                    })
            }
            "Fn::Base64" => {
                use base64::Engine;
                let text = self.resolve_string(argument, at)?;
                Ok(Some(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(text),
                )))
            }
            "Fn::GetAZs" => {
                let region = &self.context.region;
                Ok(Some(json!([
                    format!("{region}a"),
                    format!("{region}b"),
                    format!("{region}c")
                ])))
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                let mut map = Map::new();
                map.insert(function.to_string(), argument.clone());
                let value = self.condition_value(&Value::Object(map), at)?;
                Ok(Some(Value::Bool(value)))
            }
            other => Err(at.error(format!(
                "the intrinsic function {other} is not supported by the local emulator"
            ))),
        }
    }

    /// `Ref name` (attribute `None`) or `Fn::GetAtt name.attribute`, for a parameter, pseudo parameter or
    /// resource.
    fn lookup(
        &mut self,
        name: &str,
        attribute: Option<&str>,
        at: &Location,
    ) -> Result<Value, TemplateError> {
        if attribute.is_none() {
            if let Some(value) = self.pseudo_parameter(name) {
                return Ok(Value::String(value));
            }
            if name.starts_with("AWS::") {
                return Err(at.error(format!("pseudo parameter {name} is not supported")));
            }
            if let Some(value) = self.parameters.get(name) {
                return Ok(value.clone());
            }
        }
        if !self.raw_resources.contains_key(name) {
            return Err(at.error(format!(
                "{} refers to {name}, which is neither a parameter nor a resource of the template",
                if attribute.is_some() {
                    "Fn::GetAtt"
                } else {
                    "Ref"
                }
            )));
        }
        let reference = self.reference(name, at)?;
        let Some(attribute) = attribute else {
            return Ok(Value::String(reference));
        };
        let resource_type = self
            .raw_resources
            .get(name)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let properties = self
            .raw_resources
            .get(name)
            .and_then(|r| r.get("Properties"))
            .cloned()
            .unwrap_or(Value::Null);
        // Only the attributes that need other properties resolve them (a role's Path).
        let properties = if resource_type == "AWS::IAM::Role" {
            let mut map = Map::new();
            if let Some(path) = properties.get("Path") {
                map.insert("Path".into(), Value::String(self.resolve_string(path, at)?));
            }
            Value::Object(map)
        } else {
            Value::Null
        };
        let resource = Resource {
            logical_id: name.to_string(),
            resource_type,
            properties,
            metadata: Value::Null,
            reference,
        };
        physical_attribute(&self.context, &resource, attribute)
            .map(Value::String)
            .map_err(|message| at.error(message))
    }

    fn pseudo_parameter(&self, name: &str) -> Option<String> {
        let c = &self.context;
        Some(match name {
            "AWS::AccountId" => ACCOUNT_ID.to_string(),
            "AWS::Region" => c.region.clone(),
            "AWS::Partition" => "aws".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            "AWS::StackName" => c.stack_name.clone(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:{}:{ACCOUNT_ID}:stack/{}/{}",
                c.region,
                c.stack_name,
                deterministic_uuid(&c.stack_name)
            ),
            _ => return None,
        })
    }

    fn substitute(
        &mut self,
        text: &str,
        variables: &Map<String, Value>,
        at: &Location,
    ) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(at.error(format!("Fn::Sub: unclosed ${{ in {text:?}")));
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                // `${!Literal}` is written out as `${Literal}`.
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(&scalar_text(Some(value)));
            } else {
                let value = match name.split_once('.') {
                    Some((resource, attribute))
                        if !name.starts_with("AWS::")
                            && self.raw_resources.contains_key(resource) =>
                    {
                        self.lookup(resource, Some(attribute), at)?
                    }
                    _ => self.lookup(name, None, at)?,
                };
                out.push_str(&scalar_text(Some(&value)));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn single_key(value: &Value) -> Option<(&str, &Value)> {
    match value {
        Value::Object(map) if map.len() == 1 => map.iter().next().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

fn scalar_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| scalar_text(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// The property that names a resource of this type, when the template may set it.
fn name_property(resource_type: &str) -> Option<&'static str> {
    Some(match resource_type {
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::Lambda::Function" => "FunctionName",
        "AWS::IAM::Role" => "RoleName",
        "AWS::IAM::ManagedPolicy" => "ManagedPolicyName",
        "AWS::Logs::LogGroup" => "LogGroupName",
        "AWS::StepFunctions::StateMachine" => "StateMachineName",
        "AWS::ApiGateway::Stage" => "StageName",
        "AWS::ApiGateway::Model" => "Name",
        _ => return None,
    })
}

/// A stable hash, so names and ids are the same on every run (FNV-1a).
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `length` characters from `alphabet`, derived from `seed`.
fn stable_id(seed: &str, alphabet: &[u8], length: usize) -> String {
    let mut hash = stable_hash(seed);
    (0..length)
        .map(|i| {
            if i % 8 == 7 {
                hash = stable_hash(&format!("{seed}{hash}"));
            }
            let c = alphabet[(hash % alphabet.len() as u64) as usize] as char;
            hash /= alphabet.len() as u64;
            c
        })
        .collect()
}

fn deterministic_uuid(seed: &str) -> String {
    let a = stable_hash(seed);
    let b = stable_hash(&format!("{seed}/2"));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The name CloudFormation would generate: `{stack}-{logicalId}-{suffix}`.
fn generated_name(context: &DeployContext, logical_id: &str, max: usize) -> String {
    let suffix = stable_id(
        &format!("{}/{logical_id}", context.stack_name),
        UPPER_ALNUM,
        12,
    );
    let mut prefix = format!("{}-{logical_id}", context.stack_name);
    prefix.truncate(max.saturating_sub(suffix.len() + 1));
    format!("{prefix}-{suffix}")
}

/// An API Gateway style id (10 lowercase characters).
fn short_id(context: &DeployContext, logical_id: &str, salt: &str) -> String {
    stable_id(
        &format!("{}/{logical_id}/{salt}", context.stack_name),
        LOWER_ALNUM,
        10,
    )
}

fn reference_value(
    context: &DeployContext,
    logical_id: &str,
    resource_type: &str,
    explicit_name: Option<String>,
) -> String {
    let name = |max| {
        explicit_name
            .clone()
            .unwrap_or_else(|| generated_name(context, logical_id, max))
    };
    let region = &context.region;
    match resource_type {
        "AWS::DynamoDB::Table" => name(255),
        "AWS::Lambda::Function" => name(64),
        "AWS::IAM::Role" => name(64),
        "AWS::Logs::LogGroup" => name(512),
        "AWS::StepFunctions::StateMachine" => format!(
            "arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{}",
            name(80)
        ),
        "AWS::IAM::ManagedPolicy" => format!("arn:aws:iam::{ACCOUNT_ID}:policy/{}", name(128)),
        "AWS::ApiGateway::Stage" | "AWS::ApiGateway::Model" => {
            explicit_name.unwrap_or_else(|| stable_id(logical_id, LOWER_ALNUM, 10))
        }
        t if t.starts_with("AWS::ApiGateway::") => short_id(context, logical_id, "id"),
        _ => name(128),
    }
}

/// `Fn::GetAtt` of a resource whose `Ref` is known.
fn physical_attribute(
    context: &DeployContext,
    resource: &Resource,
    attribute: &str,
) -> Result<String, String> {
    let region = &context.region;
    let reference = &resource.reference;
    let value = match (resource.resource_type.as_str(), attribute) {
        ("AWS::DynamoDB::Table", "Arn") => {
            format!("arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{reference}")
        }
        ("AWS::DynamoDB::Table", "StreamArn") => format!(
            "arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{reference}/stream/1970-01-01T00:00:00.000"
        ),
        ("AWS::Lambda::Function", "Arn") => {
            format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{reference}")
        }
        ("AWS::IAM::Role", "Arn") => {
            let path = resource
                .properties
                .get("Path")
                .and_then(Value::as_str)
                .unwrap_or("/");
            format!("arn:aws:iam::{ACCOUNT_ID}:role{path}{reference}")
        }
        ("AWS::IAM::Role", "RoleId") => {
            format!("AROA{}", stable_id(reference, UPPER_ALNUM, 17))
        }
        ("AWS::Logs::LogGroup", "Arn") => {
            format!("arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{reference}:*")
        }
        ("AWS::StepFunctions::StateMachine", "Arn") => reference.clone(),
        ("AWS::StepFunctions::StateMachine", "Name") => reference
            .rsplit(':')
            .next()
            .unwrap_or(reference)
            .to_string(),
        ("AWS::ApiGateway::RestApi", "RootResourceId") => {
            short_id(context, &resource.logical_id, "root")
        }
        ("AWS::ApiGateway::RestApi", "RestApiId") => reference.clone(),
        ("AWS::ApiGateway::Resource", "ResourceId") => reference.clone(),
        ("AWS::ApiGateway::Deployment", "DeploymentId") => reference.clone(),
        ("AWS::ApiGateway::RequestValidator", "RequestValidatorId") => reference.clone(),
        ("AWS::IAM::ManagedPolicy", "PolicyArn") => reference.clone(),
        (resource_type, attribute) => {
            return Err(format!(
                "Fn::GetAtt {}.{attribute}: attribute {attribute} of {resource_type} is not supported by the local emulator",
                resource.logical_id
            ));
        }
    };
    Ok(value)
}

#[cfg(test)]
mod tests;
