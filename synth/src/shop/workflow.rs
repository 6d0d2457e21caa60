//! The order workflow as `shop_contract` documents it, and its state machine resource.

use asl::{
    Branch, Catcher, Fail, JitterStrategy, Map, Parallel, Pass, Retrier,
    StateMachine as Definition, Succeed, Task,
};
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
const LINE_CONCURRENCY: i64 = 10;

/// Every task retries Lambda's transient errors and DynamoDB failures the SDK gave up on: safe because
/// every function is idempotent.
fn retry_transient() -> Retrier {
    Retrier::new(
        errors::LAMBDA_TRANSIENT
            .iter()
            .copied()
            .chain([errors::STORAGE]),
    )
    .interval_seconds(1)
    .max_attempts(3)
    .backoff_rate(2)
    .jitter_strategy(JitterStrategy::Full)
}

/// A `lambda:invoke` task calling `function`; `payload` is a path (`Payload.$`) or a template (`Payload`).
fn invoke(function: &str, payload: Value) -> Task {
    invoke_once(function, payload).retry(retry_transient())
}

/// The task of [`invoke`] without its retrier, for a state that chooses its own.
fn invoke_once(function: &str, payload: Value) -> Task {
    let mut parameters = serde_json::Map::new();
    parameters.insert(
        "FunctionName".into(),
        Value::String(format!("${{{}}}", substitution_of(function))),
    );
    match payload {
        Value::String(path) => parameters.insert("Payload.$".into(), Value::String(path)),
        template => parameters.insert("Payload".into(), template),
    };
    Task::new(LAMBDA_INVOKE).parameters(Value::Object(parameters))
}

/// A Map over the order's lines calling `function` with one `LineRequest` per line.
fn per_line(task_name: &str, function: &str, comment: &str) -> Map {
    let processor = Branch::new(task_name).state(task_name, invoke(function, json!("$")).end());
    Map::new(processor)
        .comment(comment)
        .items_path("$.lines")
        .item_selector(json!({
            "orderId.$": "$.orderId",
            "lineIndex.$": "$$.Map.Item.Index",
            "itemId.$": "$$.Map.Item.Value.itemId",
            "quantity.$": "$$.Map.Item.Value.quantity"
        }))
        .max_concurrency(LINE_CONCURRENCY)
        .result_path_null()
}

/// The Step Functions optimized integration that invokes a Lambda function.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// The order workflow's definition, step by step as the crate docs of `shop_contract` describe it.
pub fn order_workflow_definition() -> Definition {
    let order_request = json!({ "orderId.$": "$.orderId", "lines.$": "$.lines" });
    Definition::new("AssignOrderId")
        .comment(
            "Order workflow: check stock, then reserve every line and create the order in parallel; on any \
             failure cancel the order and give back what was reserved",
        )
        .state(
            "AssignOrderId",
            Pass::new()
                .comment("The execution name is the order id: known before any side effect, the same on every retry")
                .parameters(json!({ "orderId.$": "$$.Execution.Name", "lines.$": "$.order" }))
                .next("CheckStock"),
        )
        .state(
            "CheckStock",
            per_line(
                "IsItemInStock",
                names::IS_ITEM_IN_STOCK,
                "Early rejection that writes nothing; the reservation below is what prevents overselling",
            )
            .next("PlaceOrder"),
        )
        .state(
            "PlaceOrder",
            Parallel::new()
                .comment("Reserve every line and create the order; any failure cancels the whole order")
                .branch(Branch::new("ReserveStock").state(
                    "ReserveStock",
                    per_line(
                        "UpdateItemStock",
                        names::UPDATE_ITEM_STOCK,
                        "Per line, one transaction: decrement if enough stock remains, write the line's \
                         marker, check the order is not cancelled",
                    )
                    .end(),
                ))
                .branch(Branch::new("CreateOrder").state(
                    "CreateOrder",
                    invoke(names::CREATE_ORDER, order_request.clone())
                        .result_path_null()
                        .end(),
                ))
                .result_path_null()
                .catch(Catcher::new(["States.ALL"], "CancelOrder").result_path("$.failure"))
                .next("ConfirmOrder"),
        )
        .state(
            "ConfirmOrder",
            invoke(names::CONFIRM_ORDER, json!({ "orderId.$": "$.orderId" }))
                .output_path("$.Payload")
                .catch(Catcher::new(["States.ALL"], "CancelOrder").result_path("$.failure"))
                .next("OrderConfirmed"),
        )
        .state("OrderConfirmed", Succeed::new())
        .state(
            "CancelOrder",
            invoke_once(names::CANCEL_ORDER, order_request)
                .comment("Compensation: fence the order as CANCELLED, then give back every reserved line")
                // Idempotent, and giving up would leave stock reserved: retry whatever the error. One
                // retrier only: the first retrier whose ErrorEquals matches counts the attempts, so a
                // separate transient-error retrier would cap throttling at its own few attempts.
                .retry(
                    Retrier::new(["States.ALL"])
                        .interval_seconds(1)
                        .max_attempts(10)
                        .backoff_rate(2)
                        .max_delay_seconds(30)
                        .jitter_strategy(JitterStrategy::Full),
                )
                .result_path("$.cancellation")
                .next("OrderFailed"),
        )
        .state(
            "OrderFailed",
            Fail::new()
                .comment("Fails with the error that stopped PlaceOrder or ConfirmOrder")
                .error_path("$.failure.Error")
                .cause_path("$.failure.Cause"),
        )
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
