//! The order workflow as `shop_contract` documents it, and its state machine resource.

use indexmap::IndexMap;
use serde_json::{Value, json};
use shop_contract::{errors, names};

use super::functions::{Functions, logical_name};
use super::{ShopOptions, StackParameters, WorkflowKind, ids};
use crate::aws::iam::{Action, Role, Statement};
use crate::aws::logs::LogGroup;
use crate::aws::stepfunctions::{
    CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration, StateMachine,
    StateMachineType, TracingConfiguration,
};
use crate::error::SynthError;
use crate::expr::Expr;
use crate::template::{Handle, ResourceOptions, Template};

/// The `DefinitionSubstitutions` key holding a function's ARN: `create-order` → `CreateOrderFunctionArn`.
pub fn substitution_of(function: &str) -> String {
    format!("{}FunctionArn", logical_name(function))
}

/// How many lines of one order are checked or reserved at once.
const LINE_CONCURRENCY: u32 = 10;

fn retry_transient() -> Value {
    json!([{
        "ErrorEquals": errors::LAMBDA_TRANSIENT,
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
        "JitterStrategy": "FULL"
    }])
}

/// A `lambda:invoke` task state calling `function` with `payload`.
fn invoke(function: &str, payload: Value) -> Value {
    let mut parameters = serde_json::Map::new();
    parameters.insert(
        "FunctionName".into(),
        Value::String(format!("${{{}}}", substitution_of(function))),
    );
    match payload {
        Value::String(path) => parameters.insert("Payload.$".into(), Value::String(path)),
        other => parameters.insert("Payload".into(), other),
    };
    json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": parameters,
        "Retry": retry_transient(),
    })
}

/// A Map over the order's lines calling `function` with a `LineRequest` per line.
fn per_line(state_name: &str, function: &str, comment: &str) -> Value {
    let mut task = invoke(function, Value::String("$".into()));
    task["End"] = json!(true);
    json!({
        "Type": "Map",
        "Comment": comment,
        "ItemsPath": "$.lines",
        "ItemSelector": {
            "orderId.$": "$.orderId",
            "lineIndex.$": "$$.Map.Item.Index",
            "itemId.$": "$$.Map.Item.Value.itemId",
            "quantity.$": "$$.Map.Item.Value.quantity"
        },
        "MaxConcurrency": LINE_CONCURRENCY,
        "ItemProcessor": {
            "ProcessorConfig": { "Mode": "INLINE" },
            "StartAt": state_name,
            "States": { state_name: task }
        },
        "ResultPath": null
    })
}

/// The order workflow's definition (see the crate docs of `shop_contract` for why each step is there).
pub fn order_workflow_definition() -> Value {
    let order_request = json!({ "orderId.$": "$.orderId", "lines.$": "$.lines" });

    let mut create_order = invoke(names::CREATE_ORDER, order_request.clone());
    create_order["ResultPath"] = Value::Null;
    create_order["End"] = json!(true);

    let mut confirm_order = invoke(names::CONFIRM_ORDER, json!({ "orderId.$": "$.orderId" }));
    confirm_order["OutputPath"] = json!("$.Payload");
    confirm_order["Next"] = json!("OrderConfirmed");

    let mut cancel_order = invoke(names::CANCEL_ORDER, order_request);
    cancel_order["Comment"] =
        json!("Compensation: fence the order as CANCELLED, then give back every reserved line");
    cancel_order["ResultPath"] = json!("$.cancellation");
    cancel_order["Next"] = json!("OrderFailed");

    let mut check_stock = per_line(
        "IsItemInStock",
        names::IS_ITEM_IN_STOCK,
        "Early rejection that writes nothing; the reservation below is what prevents overselling",
    );
    check_stock["Next"] = json!("PlaceOrder");

    let mut reserve_stock = per_line(
        "UpdateItemStock",
        names::UPDATE_ITEM_STOCK,
        "Per line, one transaction: decrement if enough stock, write the line's marker, check the order is \
         not cancelled",
    );
    reserve_stock["End"] = json!(true);

    json!({
        "Comment": "Order workflow: check stock, then reserve every line and create the order in parallel; \
                    on any failure cancel the order and restore what was reserved",
        "StartAt": "AssignOrderId",
        "States": {
            "AssignOrderId": {
                "Type": "Pass",
                "Comment": "The execution name is the order id: known before any side effect, the same on every retry",
                "Parameters": { "orderId.$": "$$.Execution.Name", "lines.$": "$.order" },
                "Next": "CheckStock"
            },
            "CheckStock": check_stock,
            "PlaceOrder": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "ReserveStock",
                        "States": {
                            "ReserveStock": reserve_stock
                        }
                    },
                    {
                        "StartAt": "CreateOrder",
                        "States": { "CreateOrder": create_order }
                    }
                ],
                "ResultPath": null,
                "Catch": [{
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.failure",
                    "Next": "CancelOrder"
                }],
                "Next": "ConfirmOrder"
            },
            "ConfirmOrder": confirm_order,
            "OrderConfirmed": { "Type": "Succeed" },
            "CancelOrder": cancel_order,
            "OrderFailed": {
                "Type": "Fail",
                "Comment": "Fails with the error that stopped PlaceOrder",
                "ErrorPath": "$.failure.Error",
                "CausePath": "$.failure.Cause"
            }
        }
    })
}

pub(crate) fn add_order_workflow(
    template: &mut Template,
    options: &ShopOptions,
    parameters: &StackParameters,
    functions: &Functions,
) -> Result<Handle<StateMachine>, SynthError> {
    let log_group = template.add_with(
        "OrderWorkflowLogGroup",
        LogGroup::with_retention(parameters.log_retention_days.clone()).named(Expr::sub(
            "/aws/vendedlogs/states/${AWS::StackName}-order-workflow",
        )),
        ResourceOptions::new().checkov_skip(
            "CKV_AWS_158",
            "CloudWatch Logs encrypts log data at rest by default; workflow logs hold order ids, product ids and \
             quantities only, not worth a customer managed KMS key and its key policy.",
        ),
    )?;
    let workflow_functions = [
        names::IS_ITEM_IN_STOCK,
        names::UPDATE_ITEM_STOCK,
        names::CREATE_ORDER,
        names::CONFIRM_ORDER,
        names::CANCEL_ORDER,
    ];
    let mut function_arns = Vec::new();
    let mut substitutions = IndexMap::new();
    for name in workflow_functions {
        let arn = functions.get(name)?.arn();
        function_arns.push(arn.clone());
        substitutions.insert(substitution_of(name), arn);
    }
    let role = template.add(
        "OrderWorkflowRole",
        Role::for_service("states.amazonaws.com", "Runs the order workflow")
            .with_policy(
                "InvokeWorkflowFunctions",
                vec![Statement::allow(
                    [Action::new("lambda", "InvokeFunction")],
                    function_arns,
                )],
            )
            .with_policy(
                "Logs",
                vec![Statement::allow_unscoped(
                    [
                        "CreateLogDelivery",
                        "DeleteLogDelivery",
                        "DescribeLogGroups",
                        "DescribeResourcePolicies",
                        "GetLogDelivery",
                        "ListLogDeliveries",
                        "PutResourcePolicy",
                        "UpdateLogDelivery",
                    ]
                    .map(|action| Action::new("logs", action)),
                    "CloudWatch Logs' log delivery actions support no resource-level permission",
                )],
            )
            .with_policy(
                "Tracing",
                vec![Statement::allow_unscoped(
                    [
                        "GetSamplingRules",
                        "GetSamplingTargets",
                        "PutTelemetryRecords",
                        "PutTraceSegments",
                    ]
                    .map(|action| Action::new("xray", action)),
                    "X-Ray's trace actions support no resource-level permission",
                )],
            ),
    )?;
    let (state_machine_type, logging) = match options.workflow {
        // A Standard workflow keeps its full history in Step Functions; the logs record failures.
        WorkflowKind::Standard => (StateMachineType::Standard, (LogLevel::Error, false)),
        // An Express workflow has no history in Step Functions: the logs are the only record.
        WorkflowKind::Express => (StateMachineType::Express, (LogLevel::All, true)),
    };
    let state_machine = template.add(
        ids::STATE_MACHINE,
        StateMachine {
            state_machine_type,
            definition: order_workflow_definition(),
            definition_substitutions: substitutions,
            role_arn: role.arn(),
            logging_configuration: Some(LoggingConfiguration {
                level: logging.0,
                include_execution_data: logging.1,
                destinations: vec![LogDestination {
                    cloud_watch_logs_log_group: CloudWatchLogsLogGroup {
                        log_group_arn: log_group.arn(),
                    },
                }],
            }),
            tracing_configuration: Some(TracingConfiguration { enabled: true }),
        },
    )?;
    Ok(state_machine)
}
