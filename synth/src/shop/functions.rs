//! The six functions of `shop_contract::names`, each with its own log group and least-privilege role.

use indexmap::IndexMap;
use serde_json::json;
use shop_contract::names;

use super::{ShopOptions, StackParameters};
use crate::aws::dynamodb::{DataAction, Table};
use crate::aws::iam::{Action, Role, Statement};
use crate::aws::lambda::{
    Code, Environment, Function, LogFormat, LogLevel, LoggingConfig, TracingConfig, TracingMode,
};
use crate::aws::logs::LogGroup;
use crate::error::SynthError;
use crate::template::{Handle, ResourceOptions, Template};

/// `create-order` → `CreateOrder`: the prefix of the function's logical ids.
pub fn logical_name(function: &str) -> String {
    function
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Exactly the DynamoDB actions each function's code calls (lambdas/shop/src/store.rs). A
/// TransactWriteItems call is authorized per item by the action of each of its parts (Put → PutItem,
/// Update → UpdateItem, Delete → DeleteItem, ConditionCheck → ConditionCheckItem): IAM has no
/// TransactWriteItems action.
pub fn dynamodb_actions_of(function: &str) -> &'static [DataAction] {
    use DataAction::*;
    match function {
        // PutItem only if absent; on a conflict GetItem reads the existing stock for the answer.
        names::CREATE_STORE_ITEM => &[GetItem, PutItem],
        // One strongly consistent GetItem.
        names::IS_ITEM_IN_STOCK => &[GetItem],
        // One transaction: Update (decrement) + Put (reservation marker) + ConditionCheck (order fence).
        names::UPDATE_ITEM_STOCK => &[ConditionCheckItem, PutItem, UpdateItem],
        // PutItem only if absent; GetItem to tell a retry from a conflicting order.
        names::CREATE_ORDER => &[GetItem, PutItem],
        // GetItem (the order); one transaction: Update (status) + ConditionCheck (each line's marker).
        names::CONFIRM_ORDER => &[ConditionCheckItem, GetItem, UpdateItem],
        // UpdateItem (fence: CANCELLED); Query (the order's markers); per marker one transaction: Delete
        // (marker) + Update (give the stock back).
        names::CANCEL_ORDER => &[DeleteItem, Query, UpdateItem],
        _ => &[],
    }
}

fn description_of(function: &str) -> &'static str {
    match function {
        names::CREATE_STORE_ITEM => {
            "POST /create-store-item: validates the body and creates a product"
        }
        names::IS_ITEM_IN_STOCK => {
            "Order workflow, CheckStock: is one line's quantity in stock now"
        }
        names::UPDATE_ITEM_STOCK => {
            "Order workflow, ReserveStock: decrements one line's stock once, only if enough remains"
        }
        names::CREATE_ORDER => {
            "Order workflow, CreateOrder: records the order as PENDING, idempotently"
        }
        names::CONFIRM_ORDER => "Order workflow, ConfirmOrder: PENDING -> CONFIRMED",
        names::CANCEL_ORDER => {
            "Order workflow, CancelOrder: fences the order and restores reserved stock"
        }
        _ => "shop function",
    }
}

/// The functions of the stack, by crate name, in `names::ALL_FUNCTIONS` order.
pub(crate) struct Functions {
    pub by_name: IndexMap<&'static str, Handle<Function>>,
}

impl Functions {
    pub fn get(&self, name: &str) -> Result<&Handle<Function>, SynthError> {
        self.by_name
            .get(name)
            .ok_or_else(|| SynthError::DanglingReference {
                place: "the shop stack".to_owned(),
                logical_id: format!("{}Function", logical_name(name)),
            })
    }
}

pub(crate) fn add_functions(
    template: &mut Template,
    options: &ShopOptions,
    parameters: &StackParameters,
    table: &Handle<Table>,
) -> Result<Functions, SynthError> {
    let mut by_name = IndexMap::new();
    for &name in names::ALL_FUNCTIONS {
        let prefix = logical_name(name);
        let log_group = template.add_with(
            &format!("{prefix}LogGroup"),
            LogGroup::with_retention(parameters.log_retention_days.clone()),
            ResourceOptions::new().checkov_skip(
                "CKV_AWS_158",
                "CloudWatch Logs encrypts log data at rest by default; the function logs hold product ids and \
                 quantities only, not worth a customer managed KMS key and its key policy.",
            ),
        )?;
        let dynamodb_actions = dynamodb_actions_of(name)
            .iter()
            .map(|action| action.action());
        let role = template.add(
            &format!("{prefix}Role"),
            Role::for_service("lambda.amazonaws.com", format!("Runs the {name} function"))
                .with_policy(
                    "TableAccess",
                    vec![Statement::allow(dynamodb_actions, [table.arn()])],
                )
                .with_policy(
                    "Logs",
                    vec![Statement::allow(
                        [
                            Action::new("logs", "CreateLogStream"),
                            Action::new("logs", "PutLogEvents"),
                        ],
                        [log_group.arn()],
                    )],
                )
                .with_policy(
                    "Tracing",
                    vec![Statement::allow_unscoped(
                        [
                            Action::new("xray", "PutTraceSegments"),
                            Action::new("xray", "PutTelemetryRecords"),
                        ],
                        "X-Ray's trace actions support no resource-level permission",
                    )],
                ),
        )?;
        let function = template.add_with(
            &format!("{prefix}Function"),
            Function {
                description: Some(description_of(name).to_owned()),
                code: Code::LocalZip(format!(
                    "{}/{name}/bootstrap.zip",
                    options.artifacts_dir.trim_end_matches('/')
                )),
                handler: "bootstrap".to_owned(),
                runtime: "provided.al2023".to_owned(),
                architectures: vec![parameters.architecture.clone()],
                memory_size: 128,
                timeout: 10,
                role: role.arn(),
                environment: Some(Environment {
                    variables: IndexMap::from([("TABLE_NAME".to_owned(), table.name())]),
                }),
                logging_config: Some(LoggingConfig {
                    log_group: log_group.name(),
                    log_format: LogFormat::Json,
                    application_log_level: Some(LogLevel::Info),
                    system_log_level: Some(LogLevel::Warn),
                }),
                tracing_config: Some(TracingConfig {
                    mode: TracingMode::Active,
                }),
                reserved_concurrent_executions: Some(parameters.reserved_concurrency.clone()),
            },
            ResourceOptions::new()
                .metadata("BuildMethod", json!("rust-cargolambda"))
                .metadata("BuildProperties", json!({ "Binary": name }))
                .cfn_lint_ignore("W3002")
                .checkov_skip(
                    "CKV_AWS_116",
                    "Invoked synchronously only (API Gateway proxy, Step Functions lambda:invoke); a dead-letter \
                     queue applies to asynchronous invocations, and failures are handled by the caller's \
                     retries and the workflow's compensation.",
                )
                .checkov_skip(
                    "CKV_AWS_117",
                    "Reaches only DynamoDB and X-Ray through their public endpoints with IAM auth; a VPC would \
                     add NAT or endpoint costs and cold-start latency and protect nothing here.",
                )
                .checkov_skip(
                    "CKV_AWS_173",
                    "The only environment variable is the table name, which is not a secret.",
                ),
        )?;
        by_name.insert(name, function);
    }
    Ok(Functions { by_name })
}
