//! AWS::StepFunctions::StateMachine, with its definition embedded as an object.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use asl::ValidationContext;

use crate::aws::lambda::Function;
use crate::error::SynthError;
use crate::expr::Expr;
use crate::template::{Handle, Resource, Template};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateMachineType {
    Standard,
    Express,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogLevel {
    All,
    Error,
    Fatal,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchLogsLogGroup {
    pub log_group_arn: Expr,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogDestination {
    pub cloud_watch_logs_log_group: CloudWatchLogsLogGroup,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfiguration {
    pub level: LogLevel,
    pub include_execution_data: bool,
    pub destinations: Vec<LogDestination>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfiguration {
    pub enabled: bool,
}

/// AWS::StepFunctions::StateMachine. `Definition` is the States Language document as an object;
/// `${Name}` placeholders in its strings are filled from `DefinitionSubstitutions` at deploy time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateMachine {
    pub state_machine_type: StateMachineType,
    pub definition: asl::StateMachine,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub definition_substitutions: IndexMap<String, Expr>,
    pub role_arn: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
}

/// Every `${Name}` placeholder in the strings (keys and values) of a JSON document.
pub fn placeholders(document: &Value) -> BTreeSet<String> {
    fn visit(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::String(text) => {
                found.extend(
                    crate::expr::sub_variables(text)
                        .into_iter()
                        .map(str::to_owned),
                );
            }
            Value::Array(items) => items.iter().for_each(|item| visit(item, found)),
            Value::Object(map) => {
                for (key, item) in map {
                    found.extend(
                        crate::expr::sub_variables(key)
                            .into_iter()
                            .map(str::to_owned),
                    );
                    visit(item, found);
                }
            }
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    visit(document, &mut found);
    found
}

impl Resource for StateMachine {
    const TYPE: &'static str = "AWS::StepFunctions::StateMachine";

    fn check(&self, logical_id: &str, template: &Template) -> Result<(), SynthError> {
        let fail = |message: String| SynthError::StateMachine {
            logical_id: logical_id.to_owned(),
            message,
        };
        let used = placeholders(&self.definition.to_value());
        for name in &used {
            if !self.definition_substitutions.contains_key(name) {
                return Err(fail(format!(
                    "the definition uses `${{{name}}}` but DefinitionSubstitutions has no `{name}`"
                )));
            }
        }
        for name in self.definition_substitutions.keys() {
            if !used.contains(name) {
                return Err(fail(format!(
                    "DefinitionSubstitutions has `{name}`, which the definition never uses"
                )));
            }
        }
        // A task may only invoke a function of this template: the substitutions whose value is the ARN of
        // one of its AWS::Lambda::Function resources.
        let functions = self
            .definition_substitutions
            .iter()
            .filter(|(_, value)| match value {
                Expr::GetAtt(target, "Arn") | Expr::Ref(target) => {
                    template.resource_type(target) == Some(Function::TYPE)
                }
                _ => false,
            })
            .map(|(key, _)| key);
        let context = ValidationContext::new()
            .require_known_functions()
            .with_substitutions(functions);
        asl::validate(&self.definition, &context).map_err(|problems| {
            fail(format!(
                "the definition is not valid:\n  {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ))
        })
    }
}

impl Handle<StateMachine> {
    /// `Ref`: the state machine ARN.
    pub fn arn(&self) -> Expr {
        self.reference()
    }

    pub fn name(&self) -> Expr {
        self.get_att("Name")
    }
}
