//! The CloudFormation template: parameters, conditions, resources, outputs, and the checks run at synth.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::SynthError;
use crate::expr::{self, Condition, Expr, Target, TargetKind, TemplateId, Use};

/// A resource type: its CloudFormation type name and its `Properties`.
pub trait Resource: Serialize + 'static {
    /// The CloudFormation type, e.g. `AWS::DynamoDB::Table`.
    const TYPE: &'static str;

    /// Checks that need the whole template (e.g. a state machine's tasks point at its functions).
    fn check(&self, _logical_id: &str, _template: &Template) -> Result<(), SynthError> {
        Ok(())
    }
}

/// The object-safe face of [`Resource`], so the template can hold resources of every type.
trait AnyResource {
    fn type_name(&self) -> &'static str;
    fn properties(&self) -> Result<Value, serde_json::Error>;
    fn check(&self, logical_id: &str, template: &Template) -> Result<(), SynthError>;
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<R: Resource> AnyResource for R {
    fn type_name(&self) -> &'static str {
        R::TYPE
    }

    fn properties(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    fn check(&self, logical_id: &str, template: &Template) -> Result<(), SynthError> {
        Resource::check(self, logical_id, template)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A resource of type `R` added to a template. Its methods (in each service module) give exactly the
/// attributes that type has: `table.arn()`, `function.arn()`, `rest_api.root_resource_id()`...
pub struct Handle<R> {
    target: Target,
    kind: PhantomData<fn() -> R>,
}

impl<R> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Handle {
            target: self.target.clone(),
            kind: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for Handle<R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Handle")
            .field("logical_id", &self.target.logical_id)
            .field("type", &std::any::type_name::<R>())
            .finish()
    }
}

impl<R> Handle<R> {
    pub fn logical_id(&self) -> &str {
        &self.target.logical_id
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// `{"Ref": id}`; public through each type's own name for what Ref returns (name, id, arn).
    pub(crate) fn reference(&self) -> Expr {
        Expr::Ref(self.target.clone())
    }

    pub(crate) fn get_att(&self, attribute: &'static str) -> Expr {
        Expr::GetAtt(self.target.clone(), attribute)
    }
}

/// A stack parameter of the template.
#[derive(Debug, Clone)]
pub struct ParameterHandle {
    target: Target,
}

impl ParameterHandle {
    pub fn logical_id(&self) -> &str {
        &self.target.logical_id
    }

    /// `{"Ref": parameter}`: the value the stack was given.
    pub fn value(&self) -> Expr {
        Expr::Ref(self.target.clone())
    }
}

/// A named condition of the template.
#[derive(Debug, Clone)]
pub struct ConditionHandle {
    target: Target,
}

impl ConditionHandle {
    pub fn logical_id(&self) -> &str {
        &self.target.logical_id
    }

    /// `{"Fn::If": [condition, then, else]}`.
    pub fn choose(&self, then: impl Into<Expr>, otherwise: impl Into<Expr>) -> Expr {
        Expr::If(
            self.target.clone(),
            Box::new(then.into()),
            Box::new(otherwise.into()),
        )
    }

    /// `{"Condition": name}`, to combine conditions.
    pub fn as_condition(&self) -> Condition {
        Condition::Named(self.target.clone())
    }
}

/// CloudFormation parameter types this project uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParameterType {
    String,
    Number,
}

/// A stack parameter: its declaration in the `Parameters` section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub parameter_type: ParameterType,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
}

impl Parameter {
    pub fn string(description: impl Into<String>, default: impl Into<String>) -> Parameter {
        Parameter {
            parameter_type: ParameterType::String,
            description: description.into(),
            default: Some(Value::String(default.into())),
            allowed_values: Vec::new(),
            allowed_pattern: None,
            min_value: None,
            max_value: None,
            constraint_description: None,
        }
    }

    pub fn number(description: impl Into<String>, default: i64) -> Parameter {
        Parameter {
            parameter_type: ParameterType::Number,
            description: description.into(),
            default: Some(Value::from(default)),
            allowed_values: Vec::new(),
            allowed_pattern: None,
            min_value: None,
            max_value: None,
            constraint_description: None,
        }
    }

    pub fn allowed_values<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.allowed_values = values.into_iter().map(Into::into).collect();
        self
    }

    pub fn allowed_pattern(
        mut self,
        pattern: impl Into<String>,
        explained: impl Into<String>,
    ) -> Self {
        self.allowed_pattern = Some(pattern.into());
        self.constraint_description = Some(explained.into());
        self
    }

    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.min_value = Some(min);
        self.max_value = Some(max);
        self
    }
}

/// What CloudFormation does with a resource's physical resource on deletion or replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    Delete,
    Retain,
    RetainExceptOnCreate,
    Snapshot,
}

/// The attributes of a resource entry beside its properties.
#[derive(Debug, Clone, Default)]
pub struct ResourceOptions {
    depends_on: Vec<Target>,
    deletion_policy: Option<Policy>,
    update_replace_policy: Option<Policy>,
    condition: Option<Target>,
    metadata: IndexMap<String, Value>,
}

impl ResourceOptions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn depends_on<R>(mut self, resource: &Handle<R>) -> Self {
        self.depends_on.push(resource.target.clone());
        self
    }

    pub fn deletion_policy(mut self, policy: Policy) -> Self {
        self.deletion_policy = Some(policy);
        self
    }

    pub fn update_replace_policy(mut self, policy: Policy) -> Self {
        self.update_replace_policy = Some(policy);
        self
    }

    /// Keeps the physical resource when the stack is deleted or the resource replaced.
    pub fn retain(self) -> Self {
        self.deletion_policy(Policy::Retain)
            .update_replace_policy(Policy::Retain)
    }

    pub fn condition(mut self, condition: &ConditionHandle) -> Self {
        self.condition = Some(condition.target.clone());
        self
    }

    /// Sets one `Metadata` key (later calls with the same key replace it).
    pub fn metadata(mut self, key: impl Into<String>, value: Value) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }

    /// Adds a checkov skip (`Metadata.checkov.skip`) with the reason the check does not apply.
    pub fn checkov_skip(mut self, check_id: &str, reason: &str) -> Self {
        let checkov = self
            .metadata
            .entry("checkov".to_owned())
            .or_insert_with(|| serde_json::json!({ "skip": [] }));
        if let Some(skips) = checkov.get_mut("skip").and_then(Value::as_array_mut) {
            skips.push(serde_json::json!({ "id": check_id, "comment": reason }));
        }
        self
    }

    /// Tells cfn-lint to ignore one rule on this resource (`Metadata.cfn-lint.config.ignore_checks`).
    pub fn cfn_lint_ignore(mut self, rule: &str) -> Self {
        let config = self
            .metadata
            .entry("cfn-lint".to_owned())
            .or_insert_with(|| serde_json::json!({ "config": { "ignore_checks": [] } }));
        if let Some(rules) = config
            .pointer_mut("/config/ignore_checks")
            .and_then(Value::as_array_mut)
        {
            rules.push(Value::String(rule.to_owned()));
        }
        self
    }
}

struct ResourceEntry {
    resource: Box<dyn AnyResource>,
    options: ResourceOptions,
}

/// A stack output.
#[derive(Debug, Clone)]
pub struct Output {
    pub description: String,
    pub value: Expr,
    pub export_name: Option<Expr>,
}

impl Output {
    pub fn new(description: impl Into<String>, value: Expr) -> Output {
        Output {
            description: description.into(),
            value,
            export_name: None,
        }
    }
}

static NEXT_TEMPLATE_ID: AtomicU64 = AtomicU64::new(1);

/// A CloudFormation template under construction.
pub struct Template {
    id: TemplateId,
    description: Option<String>,
    metadata: IndexMap<String, Value>,
    parameters: IndexMap<String, Parameter>,
    conditions: IndexMap<String, Condition>,
    resources: IndexMap<String, ResourceEntry>,
    outputs: IndexMap<String, Output>,
}

impl Default for Template {
    fn default() -> Self {
        Self::new()
    }
}

/// A logical id: 1 to 255 ASCII letters and digits (CloudFormation's rule).
fn check_logical_id(logical_id: &str) -> Result<(), SynthError> {
    let valid = !logical_id.is_empty()
        && logical_id.len() <= 255
        && logical_id.bytes().all(|byte| byte.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(SynthError::InvalidLogicalId(logical_id.to_owned()))
    }
}

impl Template {
    pub fn new() -> Template {
        Template {
            id: TemplateId(NEXT_TEMPLATE_ID.fetch_add(1, Ordering::Relaxed)),
            description: None,
            metadata: IndexMap::new(),
            parameters: IndexMap::new(),
            conditions: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
        }
    }

    pub fn set_description(&mut self, description: impl Into<String>) {
        self.description = Some(description.into());
    }

    /// Sets one key of the template-level `Metadata`.
    pub fn set_metadata(&mut self, key: impl Into<String>, value: Value) {
        self.metadata.insert(key.into(), value);
    }

    fn target(&self, kind: TargetKind, logical_id: &str) -> Target {
        Target {
            template: self.id,
            kind,
            logical_id: logical_id.to_owned(),
        }
    }

    fn claim(&self, logical_id: &str) -> Result<(), SynthError> {
        check_logical_id(logical_id)?;
        let taken = self.parameters.contains_key(logical_id)
            || self.conditions.contains_key(logical_id)
            || self.resources.contains_key(logical_id);
        if taken {
            return Err(SynthError::DuplicateLogicalId(logical_id.to_owned()));
        }
        Ok(())
    }

    pub fn add_parameter(
        &mut self,
        logical_id: &str,
        parameter: Parameter,
    ) -> Result<ParameterHandle, SynthError> {
        self.claim(logical_id)?;
        self.parameters.insert(logical_id.to_owned(), parameter);
        Ok(ParameterHandle {
            target: self.target(TargetKind::Parameter, logical_id),
        })
    }

    pub fn add_condition(
        &mut self,
        logical_id: &str,
        condition: Condition,
    ) -> Result<ConditionHandle, SynthError> {
        self.claim(logical_id)?;
        self.conditions.insert(logical_id.to_owned(), condition);
        Ok(ConditionHandle {
            target: self.target(TargetKind::Condition, logical_id),
        })
    }

    pub fn add<R: Resource>(
        &mut self,
        logical_id: &str,
        resource: R,
    ) -> Result<Handle<R>, SynthError> {
        self.add_with(logical_id, resource, ResourceOptions::default())
    }

    pub fn add_with<R: Resource>(
        &mut self,
        logical_id: &str,
        resource: R,
        options: ResourceOptions,
    ) -> Result<Handle<R>, SynthError> {
        self.claim(logical_id)?;
        self.resources.insert(
            logical_id.to_owned(),
            ResourceEntry {
                resource: Box::new(resource),
                options,
            },
        );
        Ok(Handle {
            target: self.target(TargetKind::Resource, logical_id),
            kind: PhantomData,
        })
    }

    pub fn add_output(&mut self, logical_id: &str, output: Output) -> Result<(), SynthError> {
        check_logical_id(logical_id)?;
        if self.outputs.contains_key(logical_id) {
            return Err(SynthError::DuplicateLogicalId(logical_id.to_owned()));
        }
        self.outputs.insert(logical_id.to_owned(), output);
        Ok(())
    }

    /// The CloudFormation type of a resource of this template, if `target` names one.
    pub fn resource_type(&self, target: &Target) -> Option<&'static str> {
        if target.template != self.id || target.kind != TargetKind::Resource {
            return None;
        }
        self.resources
            .get(&target.logical_id)
            .map(|entry| entry.resource.type_name())
    }

    /// The typed properties of a resource of this template, when `target` names a resource of type `R`.
    pub fn resource<R: Resource>(&self, handle: &Handle<R>) -> Option<&R> {
        if handle.target.template != self.id {
            return None;
        }
        self.resources
            .get(&handle.target.logical_id)
            .and_then(|entry| entry.resource.as_any().downcast_ref::<R>())
    }

    /// Logical ids of the resources of a given type, in template order.
    pub fn logical_ids_of_type(&self, type_name: &str) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|(_, entry)| entry.resource.type_name() == type_name)
            .map(|(logical_id, _)| logical_id.as_str())
            .collect()
    }

    fn check_use(
        &self,
        place: &str,
        used: &Use,
        referenced: &mut HashSet<String>,
    ) -> Result<(), SynthError> {
        match used {
            Use::UnboundSubVariable { template, variable } => Err(SynthError::UnboundSubVariable {
                place: place.to_owned(),
                variable: variable.clone(),
                template: template.clone(),
            }),
            Use::Target(target) => {
                if target.template != self.id {
                    return Err(SynthError::ForeignReference {
                        place: place.to_owned(),
                        logical_id: target.logical_id.clone(),
                    });
                }
                let exists = match target.kind {
                    TargetKind::Resource => self.resources.contains_key(&target.logical_id),
                    TargetKind::Parameter => self.parameters.contains_key(&target.logical_id),
                    TargetKind::Condition => self.conditions.contains_key(&target.logical_id),
                };
                if !exists {
                    return Err(SynthError::DanglingReference {
                        place: place.to_owned(),
                        logical_id: target.logical_id.clone(),
                    });
                }
                referenced.insert(target.logical_id.clone());
                Ok(())
            }
        }
    }

    fn serialize_checked<T: Serialize + ?Sized>(
        &self,
        place: &str,
        value: &T,
        referenced: &mut HashSet<String>,
    ) -> Result<Value, SynthError> {
        let (produced, uses) = expr::record_uses(|| serde_json::to_value(value));
        let produced = produced.map_err(|source| SynthError::Serialize {
            place: place.to_owned(),
            source,
        })?;
        for used in &uses {
            self.check_use(place, used, referenced)?;
        }
        Ok(produced)
    }

    /// Checks the whole template and builds the document CloudFormation reads, in a fixed key order.
    pub fn to_document(&self) -> Result<Value, SynthError> {
        let mut referenced = HashSet::new();
        let mut document = Map::new();
        document.insert("AWSTemplateFormatVersion".into(), "2010-09-09".into());
        if let Some(description) = &self.description {
            document.insert("Description".into(), description.clone().into());
        }
        if !self.metadata.is_empty() {
            document.insert(
                "Metadata".into(),
                serde_json::to_value(&self.metadata).map_err(|source| SynthError::Serialize {
                    place: "template metadata".into(),
                    source,
                })?,
            );
        }
        if !self.parameters.is_empty() {
            let parameters =
                self.serialize_checked("Parameters", &self.parameters, &mut referenced)?;
            document.insert("Parameters".into(), parameters);
        }
        if !self.conditions.is_empty() {
            let mut conditions = Map::new();
            for (logical_id, condition) in &self.conditions {
                let place = format!("condition `{logical_id}`");
                conditions.insert(
                    logical_id.clone(),
                    self.serialize_checked(&place, condition, &mut referenced)?,
                );
            }
            document.insert("Conditions".into(), Value::Object(conditions));
        }
        if self.resources.is_empty() {
            return Err(SynthError::NoResources);
        }
        let mut resources = Map::new();
        for (logical_id, entry) in &self.resources {
            let place = format!("resource `{logical_id}` ({})", entry.resource.type_name());
            resources.insert(
                logical_id.clone(),
                self.resource_document(&place, logical_id, entry, &mut referenced)?,
            );
        }
        document.insert("Resources".into(), Value::Object(resources));
        if !self.outputs.is_empty() {
            let mut outputs = Map::new();
            for (logical_id, output) in &self.outputs {
                let place = format!("output `{logical_id}`");
                let mut body = Map::new();
                body.insert("Description".into(), output.description.clone().into());
                body.insert(
                    "Value".into(),
                    self.serialize_checked(&place, &output.value, &mut referenced)?,
                );
                if let Some(export_name) = &output.export_name {
                    body.insert(
                        "Export".into(),
                        serde_json::json!({ "Name": self.serialize_checked(&place, export_name, &mut referenced)? }),
                    );
                }
                outputs.insert(logical_id.clone(), Value::Object(body));
            }
            document.insert("Outputs".into(), Value::Object(outputs));
        }
        for logical_id in self.parameters.keys() {
            if !referenced.contains(logical_id) {
                return Err(SynthError::UnusedParameter(logical_id.clone()));
            }
        }
        for logical_id in self.conditions.keys() {
            if !referenced.contains(logical_id) {
                return Err(SynthError::UnusedCondition(logical_id.clone()));
            }
        }
        Ok(Value::Object(document))
    }

    fn resource_document(
        &self,
        place: &str,
        logical_id: &str,
        entry: &ResourceEntry,
        referenced: &mut HashSet<String>,
    ) -> Result<Value, SynthError> {
        entry.resource.check(logical_id, self)?;
        let options = &entry.options;
        let mut body = Map::new();
        body.insert("Type".into(), entry.resource.type_name().into());
        if let Some(condition) = &options.condition {
            self.check_use(place, &Use::Target(condition.clone()), referenced)?;
            body.insert("Condition".into(), condition.logical_id.clone().into());
        }
        if !options.depends_on.is_empty() {
            let mut depends_on = Vec::new();
            for target in &options.depends_on {
                self.check_use(place, &Use::Target(target.clone()), referenced)?;
                if target.logical_id == logical_id {
                    return Err(SynthError::DependsOnItself(logical_id.to_owned()));
                }
                depends_on.push(Value::String(target.logical_id.clone()));
            }
            body.insert("DependsOn".into(), Value::Array(depends_on));
        }
        if let Some(policy) = options.deletion_policy {
            body.insert(
                "DeletionPolicy".into(),
                serde_json::to_value(policy).unwrap_or_default(),
            );
        }
        if let Some(policy) = options.update_replace_policy {
            body.insert(
                "UpdateReplacePolicy".into(),
                serde_json::to_value(policy).unwrap_or_default(),
            );
        }
        if !options.metadata.is_empty() {
            body.insert(
                "Metadata".into(),
                self.serialize_checked(place, &options.metadata, referenced)?,
            );
        }
        let (properties, uses) = expr::record_uses(|| entry.resource.properties());
        let properties = properties.map_err(|source| SynthError::Serialize {
            place: place.to_owned(),
            source,
        })?;
        for used in &uses {
            self.check_use(place, used, referenced)?;
        }
        if properties.as_object().is_some_and(|map| !map.is_empty()) {
            body.insert("Properties".into(), properties);
        }
        Ok(Value::Object(body))
    }

    /// The template as YAML (long-form intrinsics, keys in a fixed order).
    pub fn to_yaml(&self) -> Result<String, SynthError> {
        let document = self.to_document()?;
        yaml_serde::to_string(&document).map_err(|error| SynthError::Yaml(error.to_string()))
    }

    /// The template as pretty-printed JSON, ending with a newline.
    pub fn to_json(&self) -> Result<String, SynthError> {
        let document = self.to_document()?;
        let mut text =
            serde_json::to_string_pretty(&document).map_err(|source| SynthError::Serialize {
                place: "template".into(),
                source,
            })?;
        text.push('\n');
        Ok(text)
    }
}
