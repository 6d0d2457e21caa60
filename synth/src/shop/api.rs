//! The REST API: `POST /create-store-item` (Lambda proxy) and `POST /create-order` (Step Functions).

use indexmap::IndexMap;
use serde_json::{Value, json};
use shop_contract::{limits, names};

use super::functions::Functions;
use super::{ShopOptions, StackParameters, WorkflowKind, ids};
use crate::aws::apigateway::{
    AccessLogSetting, Account, ApiResource, Deployment, EndpointConfiguration, EndpointType,
    Integration, IntegrationResponse, IntegrationType, LoggingLevel, Method, MethodResponse,
    MethodSetting, Model, PassthroughBehavior, RequestValidator, RestApi, Stage,
};
use crate::aws::iam::{Action, Role, Statement};
use crate::aws::lambda::Permission;
use crate::aws::logs::LogGroup;
use crate::aws::stepfunctions::StateMachine;
use crate::error::SynthError;
use crate::expr::Expr;
use crate::template::{Handle, ResourceOptions, Template};

/// The request and response mapping templates, kept as files under `templates/` (each opens with a comment
/// block saying how it is meant to behave).
pub mod mapping {
    pub const CREATE_ORDER_REQUEST: &str =
        include_str!("../../../templates/create-order-request.vtl");
    pub const CREATE_ORDER_RESPONSE: &str =
        include_str!("../../../templates/create-order-response.vtl");
    pub const CREATE_ORDER_SYNC_REQUEST: &str =
        include_str!("../../../templates/create-order-sync-request.vtl");
    pub const CREATE_ORDER_SYNC_RESPONSE: &str =
        include_str!("../../../templates/create-order-sync-response.vtl");
}

/// Body of the 500/502 answers when Step Functions refuses or fails the start call: valid JSON, no
/// internals (the cause is in the API's access and execution logs).
const START_FAILED_TEMPLATE: &str = "{\n  \"error\": \"WorkflowUnavailable\",\n  \"message\": \"the order workflow could not be started\",\n  \"requestId\": \"$context.requestId\"\n}\n";

/// The JSON Schema (draft 4, as API Gateway models use) of a `POST /create-order` body: the order lines.
pub fn create_order_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "CreateOrder",
        "description": "An order: its lines, each a product id and a positive quantity",
        "type": "array",
        "minItems": 1,
        "maxItems": limits::MAX_ORDER_LINES,
        "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["itemId", "quantity"],
            "properties": {
                "itemId": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": limits::MAX_ITEM_ID_CHARS
                },
                "quantity": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": limits::MAX_LINE_QUANTITY
                }
            }
        }
    })
}

/// The access log line of the stage: one JSON object per request.
const ACCESS_LOG_FORMAT: &str = concat!(
    "{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\",",
    "\"requestTime\":\"$context.requestTime\",\"httpMethod\":\"$context.httpMethod\",",
    "\"resourcePath\":\"$context.resourcePath\",\"status\":\"$context.status\",",
    "\"responseLength\":\"$context.responseLength\",\"integrationStatus\":\"$context.integrationStatus\",",
    "\"integrationError\":\"$context.integration.error\"}"
);

pub(crate) struct ApiStage {
    pub invoke_url: Expr,
}

/// FNV-1a: a stable, dependency-free fingerprint for the deployment's logical id.
fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:08x}", hash >> 32)
}

pub(crate) fn add_api(
    template: &mut Template,
    options: &ShopOptions,
    parameters: &StackParameters,
    functions: &Functions,
    state_machine: &Handle<StateMachine>,
) -> Result<ApiStage, SynthError> {
    let api = template.add(
        ids::REST_API,
        RestApi {
            name: Expr::sub("${AWS::StackName}-shop"),
            description: Some("The shop: create products, place orders".to_owned()),
            endpoint_configuration: Some(EndpointConfiguration {
                types: vec![EndpointType::Regional],
            }),
        },
    )?;

    // POST /create-store-item -> the create-store-item function (Lambda proxy).
    let create_store_item = functions.get(names::CREATE_STORE_ITEM)?;
    let store_item_resource = template.add(
        "CreateStoreItemResource",
        ApiResource {
            rest_api_id: api.id(),
            parent_id: api.root_resource_id(),
            path_part: "create-store-item".to_owned(),
        },
    )?;
    let store_item_method_properties = Method {
        rest_api_id: api.id(),
        resource_id: store_item_resource.id(),
        http_method: "POST".to_owned(),
        authorization_type: "NONE".to_owned(),
        operation_name: Some("CreateStoreItem".to_owned()),
        request_validator_id: None,
        request_models: IndexMap::new(),
        integration: Integration {
            integration_type: IntegrationType::AwsProxy,
            integration_http_method: "POST".to_owned(),
            uri: Expr::sub_with(
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FunctionArn}/invocations",
                [("FunctionArn", create_store_item.arn())],
            ),
            credentials: None,
            passthrough_behavior: None,
            request_templates: IndexMap::new(),
            integration_responses: Vec::new(),
            timeout_in_millis: None,
        },
        method_responses: Vec::new(),
    };
    let store_item_fingerprint =
        serde_json::to_string(&store_item_method_properties).unwrap_or_default();
    let store_item_method = template.add_with(
        "CreateStoreItemMethod",
        store_item_method_properties,
        ResourceOptions::new()
            .checkov_skip(
                "CKV_AWS_59",
                "The tutorial's shop is a public demo API with no users to authenticate; the stage's throttling \
                 bounds what an anonymous caller can do.",
            )
,
    )?;
    template.add(
        "CreateStoreItemInvokePermission",
        Permission::invoke(
            create_store_item,
            "apigateway.amazonaws.com",
            Expr::sub_with(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/${Stage}/POST/create-store-item",
                [("Api", api.id()), ("Stage", parameters.stage_name.clone())],
            ),
        ),
    )?;

    // POST /create-order -> Step Functions, validated at the gateway.
    let (action, request_template, response_template, success_status, method_statuses) =
        match options.workflow {
            WorkflowKind::Standard => (
                "StartExecution",
                mapping::CREATE_ORDER_REQUEST,
                mapping::CREATE_ORDER_RESPONSE,
                202,
                vec![202, 500, 502],
            ),
            WorkflowKind::Express => (
                "StartSyncExecution",
                mapping::CREATE_ORDER_SYNC_REQUEST,
                mapping::CREATE_ORDER_SYNC_RESPONSE,
                200,
                vec![200, 409, 500, 502, 504],
            ),
        };
    let api_role = template.add(
        "CreateOrderApiRole",
        Role::for_service(
            "apigateway.amazonaws.com",
            "Lets POST /create-order start executions of the order workflow",
        )
        .with_policy(
            "StartOrderWorkflow",
            vec![Statement::allow(
                [Action::new("states", action)],
                [state_machine.arn()],
            )],
        ),
    )?;
    let model = template.add(
        "CreateOrderModel",
        Model {
            rest_api_id: api.id(),
            name: "CreateOrder".to_owned(),
            content_type: "application/json".to_owned(),
            description: Some(format!(
                "1 to {} order lines; itemId 1 to {} characters, quantity 1 to {}",
                limits::MAX_ORDER_LINES,
                limits::MAX_ITEM_ID_CHARS,
                limits::MAX_LINE_QUANTITY
            )),
            schema: create_order_schema(),
        },
    )?;
    let validator = template.add(
        "CreateOrderValidator",
        RequestValidator {
            rest_api_id: api.id(),
            name: "ValidateBody".to_owned(),
            validate_request_body: true,
            validate_request_parameters: false,
        },
    )?;
    let order_resource = template.add(
        "CreateOrderResource",
        ApiResource {
            rest_api_id: api.id(),
            parent_id: api.root_resource_id(),
            path_part: "create-order".to_owned(),
        },
    )?;
    let start_failed = |status: u16, pattern: &str| IntegrationResponse {
        status_code: status.to_string(),
        selection_pattern: Some(pattern.to_owned()),
        response_templates: IndexMap::from([(
            "application/json".to_owned(),
            Expr::str(START_FAILED_TEMPLATE),
        )]),
    };
    let order_method_properties = Method {
        rest_api_id: api.id(),
        resource_id: order_resource.id(),
        http_method: "POST".to_owned(),
        authorization_type: "NONE".to_owned(),
        operation_name: Some("CreateOrder".to_owned()),
        request_validator_id: Some(validator.id()),
        request_models: IndexMap::from([("application/json".to_owned(), model.name())]),
        integration: Integration {
            integration_type: IntegrationType::Aws,
            integration_http_method: "POST".to_owned(),
            uri: Expr::sub(format!(
                "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:states:action/{action}"
            )),
            credentials: Some(api_role.arn()),
            passthrough_behavior: Some(PassthroughBehavior::Never),
            request_templates: IndexMap::from([(
                "application/json".to_owned(),
                Expr::sub_with(request_template, [("StateMachineArn", state_machine.arn())]),
            )]),
            integration_responses: vec![
                IntegrationResponse {
                    status_code: success_status.to_string(),
                    selection_pattern: None,
                    response_templates: IndexMap::from([(
                        "application/json".to_owned(),
                        Expr::str(response_template),
                    )]),
                },
                // A 4xx from Step Functions means this stack's request was wrong: our fault, not the caller's.
                start_failed(500, "4\\d{2}"),
                start_failed(502, "5\\d{2}"),
            ],
            timeout_in_millis: None,
        },
        method_responses: method_statuses
            .into_iter()
            .map(MethodResponse::status)
            .collect(),
    };
    let order_fingerprint = serde_json::to_string(&order_method_properties).unwrap_or_default();
    let order_method = template.add_with(
        "CreateOrderMethod",
        order_method_properties,
        ResourceOptions::new().checkov_skip(
            "CKV_AWS_59",
            "The tutorial's shop is a public demo API with no users to authenticate; the body is validated \
             by the CreateOrder model and the stage's throttling bounds what an anonymous caller can do.",
        ),
    )?;

    // A deployment is a snapshot: its logical id changes with the methods so that CloudFormation creates a
    // new one (and the stage serves it) whenever the API changes.
    let schema_text = create_order_schema().to_string();
    let deployment_id = format!(
        "ShopApiDeployment{}",
        fingerprint(&(store_item_fingerprint + &order_fingerprint + &schema_text))
    );
    let deployment = template.add_with(
        &deployment_id,
        Deployment {
            rest_api_id: api.id(),
            description: Some("The shop API's methods".to_owned()),
        },
        ResourceOptions::new()
            .depends_on(&store_item_method)
            .depends_on(&order_method),
    )?;

    // API Gateway writes CloudWatch logs with one role per account and region, set by this resource.
    let cloudwatch_role = template.add(
        "ApiGatewayCloudWatchRole",
        Role {
            managed_policy_arns: vec![Expr::sub(
                "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            )],
            ..Role::for_service(
                "apigateway.amazonaws.com",
                "Lets API Gateway write access and execution logs (account-wide setting)",
            )
        },
    )?;
    let account = template.add(
        "ApiGatewayAccount",
        Account {
            cloud_watch_role_arn: cloudwatch_role.arn(),
        },
    )?;
    let access_logs = template.add_with(
        "ShopApiAccessLogGroup",
        LogGroup::with_retention(parameters.log_retention_days.clone()),
        ResourceOptions::new().checkov_skip(
            "CKV_AWS_158",
            "CloudWatch Logs encrypts log data at rest by default; access logs hold request metadata only, not \
             worth a customer managed KMS key and its key policy.",
        ),
    )?;
    let stage = template.add_with(
        ids::STAGE,
        Stage {
            rest_api_id: api.id(),
            deployment_id: deployment.id(),
            stage_name: parameters.stage_name.clone(),
            description: Some("The shop API's live stage".to_owned()),
            tracing_enabled: true,
            access_log_setting: Some(AccessLogSetting {
                destination_arn: access_logs.arn(),
                format: ACCESS_LOG_FORMAT.to_owned(),
            }),
            method_settings: vec![MethodSetting {
                resource_path: "/*".to_owned(),
                http_method: "*".to_owned(),
                metrics_enabled: true,
                logging_level: LoggingLevel::Error,
                data_trace_enabled: false,
                throttling_rate_limit: parameters.throttling_rate_limit.clone(),
                throttling_burst_limit: parameters.throttling_burst_limit.clone(),
            }],
        },
        ResourceOptions::new()
            .depends_on(&account)
            .checkov_skip(
                "CKV_AWS_120",
                "Both routes are POSTs that change state (a product, an order): a cached answer would be wrong.",
            )
,
    )?;

    Ok(ApiStage {
        invoke_url: Expr::sub_with(
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/",
            [("Api", api.id()), ("Stage", stage.name())],
        ),
    })
}
