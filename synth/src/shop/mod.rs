//! The shop stack: the tutorial's table, functions, order workflow and REST API, made correct.
//!
//! Logical ids are fixed (the local emulator, deploy.sh and the tests read them back):
//! - `StoreTable`; per function `<Name>Function`, `<Name>Role`, `<Name>LogGroup` where `<Name>` is the
//!   function's crate name in PascalCase (`create-order` → `CreateOrder`);
//! - `OrderWorkflow`, `OrderWorkflowRole`, `OrderWorkflowLogGroup`;
//! - `ShopApi`, `CreateStoreItemResource`, `CreateStoreItemMethod`, `CreateStoreItemInvokePermission`,
//!   `CreateOrderResource`, `CreateOrderMethod`, `CreateOrderModel`, `CreateOrderValidator`,
//!   `CreateOrderApiRole`, `ShopApiDeployment<hash>`, `ShopApiStage`, `ShopApiAccessLogGroup`,
//!   `ApiGatewayAccount`, `ApiGatewayCloudWatchRole`.

mod api;
mod functions;
mod workflow;

use serde_json::json;

use crate::aws::dynamodb::{PointInTimeRecoverySpecification, SseSpecification, Table};
use crate::error::SynthError;
use crate::expr::{Condition, Expr};
use crate::template::{Output, Parameter, ResourceOptions, Template};

pub use api::{create_order_schema, mapping};
pub use functions::{dynamodb_actions_of, logical_name};
pub use workflow::{LAMBDA_INVOKE, order_workflow_definition, substitution_of};

/// Which kind of state machine runs the order workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkflowKind {
    /// The tutorial's asynchronous workflow behind `StartExecution`: the API answers 202 at once.
    #[default]
    Standard,
    /// An Express workflow behind `StartSyncExecution`: the API answers with the order's outcome.
    Express,
}

/// What must be known at synth time (everything else is a stack parameter with a default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopOptions {
    pub workflow: WorkflowKind,
    /// Directory of the functions' zips as `cargo lambda build --output-format zip` lays them out
    /// (`<dir>/<function>/bootstrap.zip`), relative to the directory the template is written to: it is
    /// what `aws cloudformation package` uploads.
    pub artifacts_dir: String,
}

/// Where cargo-lambda puts the zips, seen from `templates/` (or any directory one level below the root).
pub const DEFAULT_ARTIFACTS_DIR: &str = "../target/lambda";

impl Default for ShopOptions {
    fn default() -> Self {
        ShopOptions {
            workflow: WorkflowKind::Standard,
            artifacts_dir: DEFAULT_ARTIFACTS_DIR.to_owned(),
        }
    }
}

/// Logical ids other parts of the project look up.
pub mod ids {
    pub const TABLE: &str = "StoreTable";
    pub const STATE_MACHINE: &str = "OrderWorkflow";
    pub const REST_API: &str = "ShopApi";
    pub const STAGE: &str = "ShopApiStage";
    pub const API_URL_OUTPUT: &str = "ApiUrl";
}

/// Builds the whole shop stack.
pub fn shop_template(options: &ShopOptions) -> Result<Template, SynthError> {
    let mut template = Template::new();
    template.set_description(match options.workflow {
        WorkflowKind::Standard => {
            "Serverless shop (Rust): DynamoDB table, Lambda functions, a Standard Step Functions order \
             workflow started asynchronously by a REST API"
        }
        WorkflowKind::Express => {
            "Serverless shop (Rust): DynamoDB table, Lambda functions, an Express Step Functions order \
             workflow run synchronously by a REST API"
        }
    });

    template.set_metadata("Conventions", conventions());
    let parameters = StackParameters::declare(&mut template)?;

    let table = template.add_with(
        ids::TABLE,
        Table {
            point_in_time_recovery_specification: Some(PointInTimeRecoverySpecification {
                point_in_time_recovery_enabled: true,
            }),
            sse_specification: Some(SseSpecification {
                sse_enabled: true,
                sse_type: Some("KMS".to_owned()),
                kms_master_key_id: None,
            }),
            ..Table::with_string_keys("PK", "SK")
        },
        ResourceOptions::new().retain().checkov_skip(
            "CKV_AWS_119",
            "Encrypted at rest with the AWS managed KMS key (SSEType KMS); a customer managed key would add \
             a key policy to maintain and a monthly cost that this shop's product and order data does not \
             call for.",
        ),
    )?;

    let functions = functions::add_functions(&mut template, options, &parameters, &table)?;
    let state_machine =
        workflow::add_order_workflow(&mut template, options, &parameters, &functions)?;
    let stage = api::add_api(
        &mut template,
        options,
        &parameters,
        &functions,
        &state_machine,
    )?;

    template.add_output(
        ids::API_URL_OUTPUT,
        Output::new(
            "Invoke URL of the shop's REST API (append create-store-item or create-order)",
            stage.invoke_url.clone(),
        ),
    )?;
    template.add_output(
        "CreateStoreItemUrl",
        Output::new(
            "POST a product here: {\"itemId\": \"apple\", \"quantity\": 10}",
            Expr::sub_with(
                "${Url}create-store-item",
                [("Url", stage.invoke_url.clone())],
            ),
        ),
    )?;
    template.add_output(
        "CreateOrderUrl",
        Output::new(
            "POST an order here: [{\"itemId\": \"apple\", \"quantity\": 2}]",
            Expr::sub_with("${Url}create-order", [("Url", stage.invoke_url)]),
        ),
    )?;
    template.add_output(
        "TableName",
        Output::new(
            "The DynamoDB table holding products, orders and stock reservations",
            table.name(),
        ),
    )?;
    template.add_output(
        "StateMachineArn",
        Output::new("The order workflow", state_machine.arn()),
    )?;
    Ok(template)
}

/// The stack parameters: what a user may change at deploy time without running synth again.
pub(crate) struct StackParameters {
    pub architecture: Expr,
    pub stage_name: Expr,
    pub log_retention_days: Expr,
    pub throttling_rate_limit: Expr,
    pub throttling_burst_limit: Expr,
    pub reserved_concurrency: Expr,
}

impl StackParameters {
    fn declare(template: &mut Template) -> Result<StackParameters, SynthError> {
        let architecture = template.add_parameter(
            "Architecture",
            Parameter::string(
                "Instruction set of the functions; must match how the zips were built (cargo lambda build \
                 --arm64 or --x86-64)",
                "arm64",
            )
            .allowed_values(["arm64", "x86_64"]),
        )?;
        let stage_name = template.add_parameter(
            "StageName",
            Parameter::string(
                "Name of the API stage, the first segment of the invoke URL's path",
                "prod",
            )
            .allowed_pattern(
                "^[A-Za-z0-9_]{1,128}$",
                "letters, digits and underscores, 1 to 128",
            ),
        )?;
        let log_retention_days = template.add_parameter(
            "LogRetentionDays",
            Parameter::number("Days every log group of the stack keeps its events", 365)
                .allowed_values([
                    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                    2192, 2557, 2922, 3288, 3653,
                ]),
        )?;
        let throttling_rate_limit = template.add_parameter(
            "ThrottlingRateLimit",
            Parameter::number("Steady-state requests per second the API stage accepts", 50)
                .range(1, 10_000),
        )?;
        let throttling_burst_limit = template.add_parameter(
            "ThrottlingBurstLimit",
            Parameter::number(
                "Burst of requests the API stage accepts above the steady rate",
                100,
            )
            .range(1, 5_000),
        )?;
        let reserved_concurrency = template.add_parameter(
            "ReservedConcurrency",
            Parameter::number(
                "Concurrent executions reserved for (and capping) each function; 0 leaves the functions in \
                 the account's unreserved pool (new accounts with a concurrency quota of 10 need 0)",
                10,
            )
            .range(0, 1_000),
        )?;
        let reserves = template.add_condition(
            "ReservesConcurrency",
            !Condition::equals(reserved_concurrency.value(), "0"),
        )?;
        Ok(StackParameters {
            architecture: architecture.value(),
            stage_name: stage_name.value(),
            log_retention_days: log_retention_days.value(),
            throttling_rate_limit: throttling_rate_limit.value(),
            throttling_burst_limit: throttling_burst_limit.value(),
            reserved_concurrency: reserves.choose(
                reserved_concurrency.value(),
                Expr::pseudo(crate::expr::Pseudo::NoValue),
            ),
        })
    }
}

/// The template-level Metadata describing the conventions other tools rely on.
pub(crate) fn conventions() -> serde_json::Value {
    json!({
        "Functions": "Each AWS::Lambda::Function has Metadata.BuildMethod rust-cargolambda and \
                      Metadata.BuildProperties.Binary, its crate and binary under lambdas/ (SAM's convention). \
                      Its Code is the zip cargo-lambda builds, as a path relative to this file, which `aws \
                      cloudformation package` uploads and rewrites to S3Bucket/S3Key.",
        "StateMachines": "Definition is the States Language document as an object; each ${Name} in it is \
                          filled from DefinitionSubstitutions (the functions' ARNs).",
        "GeneratedBy": "cargo run -p synth (do not edit: regenerate)",
    })
}
