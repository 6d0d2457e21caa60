//! The shop stack: the committed templates are fresh, synth is deterministic, and the stack is what the
//! issue and the workflow contract (shop_contract) ask for.

use std::path::PathBuf;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use shop_contract::{errors, limits, names};
use synth::shop::{self, ShopOptions, WorkflowKind};
use synth::{Format, synthesize};

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn options(workflow: WorkflowKind) -> ShopOptions {
    ShopOptions {
        workflow,
        ..ShopOptions::default()
    }
}

fn document(workflow: WorkflowKind) -> Value {
    shop::shop_template(&options(workflow))
        .expect("the shop stack synthesizes")
        .to_document()
        .expect("the shop stack synthesizes")
}

fn resource<'a>(document: &'a Value, logical_id: &str) -> &'a Value {
    let found = &document["Resources"][logical_id];
    assert!(
        found.is_object(),
        "the template has no resource `{logical_id}`"
    );
    found
}

fn get_att(logical_id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [logical_id, attribute] })
}

fn reference(logical_id: &str) -> Value {
    json!({ "Ref": logical_id })
}

#[test]
fn committed_templates_are_the_output_of_synth() {
    for (path, workflow) in [
        ("templates/template.yaml", WorkflowKind::Standard),
        ("templates/template-express.yaml", WorkflowKind::Express),
    ] {
        let fresh = synthesize(&options(workflow), Format::Yaml).expect("synth");
        let committed = std::fs::read_to_string(repo_file(path)).unwrap_or_default();
        let flag = if workflow == WorkflowKind::Express {
            " --express"
        } else {
            ""
        };
        assert!(
            committed == fresh,
            "{path} is stale (or missing): regenerate it with\n    cargo run -p synth --{flag} --out {path}\n\
             and commit it"
        );
    }
}

#[test]
fn synth_is_deterministic_and_yaml_equals_json() {
    for workflow in [WorkflowKind::Standard, WorkflowKind::Express] {
        let first = synthesize(&options(workflow), Format::Yaml).expect("synth");
        let second = synthesize(&options(workflow), Format::Yaml).expect("synth");
        assert!(first == second, "two runs of synth differ");
        let json_text = synthesize(&options(workflow), Format::Json).expect("synth");
        let from_json: Value = serde_json::from_str(&json_text).expect("JSON output parses");
        let from_yaml: Value = yaml_serde::from_str(&first).expect("YAML output parses");
        assert_eq!(from_yaml, from_json);
        assert_eq!(from_json, document(workflow));
    }
}

#[test]
fn yaml_uses_long_form_intrinsics_only() {
    let yaml = synthesize(&ShopOptions::default(), Format::Yaml).expect("synth");
    for short in ["!Ref", "!GetAtt", "!Sub", "!Join", "!If", "!Equals", "!Not"] {
        assert!(!yaml.contains(short), "short form {short} in the YAML");
    }
    assert!(yaml.contains("Fn::GetAtt:"));
    assert!(yaml.contains("Ref: StoreTable"));
}

#[test]
fn the_table_is_retained_recoverable_and_on_demand() {
    let document = document(WorkflowKind::Standard);
    let table = resource(&document, "StoreTable");
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    let properties = &table["Properties"];
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(
        properties["KeySchema"],
        json!([{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}])
    );
    assert_eq!(
        properties["AttributeDefinitions"],
        json!([{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}])
    );
}

#[test]
fn every_function_is_a_rust_binary_with_its_own_log_group() {
    let document = document(WorkflowKind::Standard);
    for &name in names::ALL_FUNCTIONS {
        let prefix = shop::logical_name(name);
        let function = resource(&document, &format!("{prefix}Function"));
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{name}"
        );
        assert_eq!(
            function["Metadata"]["BuildProperties"]["Binary"], name,
            "{name}"
        );
        let properties = &function["Properties"];
        assert_eq!(properties["Runtime"], "provided.al2023", "{name}");
        assert_eq!(properties["Handler"], "bootstrap", "{name}");
        assert_eq!(
            properties["Architectures"],
            json!([reference("Architecture")]),
            "{name}"
        );
        assert_eq!(
            properties["Code"],
            format!("../target/lambda/{name}/bootstrap.zip"),
            "{name}"
        );
        assert_eq!(
            properties["Environment"]["Variables"],
            json!({"TABLE_NAME": reference("StoreTable")})
        );
        assert_eq!(
            properties["Role"],
            get_att(&format!("{prefix}Role"), "Arn"),
            "{name}"
        );
        assert_eq!(properties["TracingConfig"]["Mode"], "Active", "{name}");
        let log_group_id = format!("{prefix}LogGroup");
        assert_eq!(
            properties["LoggingConfig"]["LogGroup"],
            reference(&log_group_id),
            "{name}"
        );
        let log_group = resource(&document, &log_group_id);
        assert_eq!(
            log_group["Properties"]["RetentionInDays"],
            reference("LogRetentionDays")
        );
    }
    assert_eq!(document["Parameters"]["Architecture"]["Default"], "arm64");
}

/// (action, resources) of every Allow statement of a role's inline policy `policy_name`.
fn statements(role: &Value, policy_name: &str) -> Vec<(Vec<String>, Value)> {
    let policies = role["Properties"]["Policies"]
        .as_array()
        .expect("inline policies");
    let policy = policies
        .iter()
        .find(|policy| policy["PolicyName"] == policy_name)
        .unwrap_or_else(|| panic!("no policy {policy_name}"));
    policy["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|statement| {
            assert_eq!(statement["Effect"], "Allow");
            let actions = statement["Action"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|action| action.as_str().expect("string").to_owned())
                .collect();
            (actions, statement["Resource"].clone())
        })
        .collect()
}

#[test]
fn each_function_role_allows_exactly_the_dynamodb_actions_its_code_calls_on_the_table_only() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/function_permissions.json"),
        )
        .expect("data file"),
    )
    .expect("JSON");
    let document = document(WorkflowKind::Standard);
    for &name in names::ALL_FUNCTIONS {
        let prefix = shop::logical_name(name);
        let role = resource(&document, &format!("{prefix}Role"));
        assert_eq!(
            role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json!({"Service": ["lambda.amazonaws.com"]})
        );
        let table_access = statements(role, "TableAccess");
        assert_eq!(table_access.len(), 1, "{name}: one statement");
        let (actions, resources) = &table_access[0];
        assert_eq!(json!(actions), expected[name], "{name}: DynamoDB actions");
        assert_eq!(
            resources,
            &json!([get_att("StoreTable", "Arn")]),
            "{name}: the table only"
        );
        let logs = statements(role, "Logs");
        assert_eq!(
            logs,
            vec![(
                vec![
                    "logs:CreateLogStream".to_owned(),
                    "logs:PutLogEvents".to_owned()
                ],
                json!([get_att(&format!("{prefix}LogGroup"), "Arn")])
            )],
            "{name}: writes its own log group only"
        );
    }
}

#[test]
fn no_wildcard_action_and_wildcard_resources_only_where_aws_requires_them() {
    for workflow in [WorkflowKind::Standard, WorkflowKind::Express] {
        let document = document(workflow);
        for (logical_id, resource) in document["Resources"].as_object().expect("resources") {
            if resource["Type"] != "AWS::IAM::Role" {
                continue;
            }
            for policy in resource["Properties"]["Policies"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for statement in policy["PolicyDocument"]["Statement"]
                    .as_array()
                    .expect("statements")
                {
                    for action in statement["Action"].as_array().expect("actions") {
                        let action = action.as_str().expect("string");
                        assert!(
                            !action.contains('*'),
                            "{logical_id}: wildcard action {action}"
                        );
                        if statement["Resource"] == "*" {
                            let unscopable = action.starts_with("xray:")
                                || (action.starts_with("logs:")
                                    && !action.contains("PutLogEvents"));
                            assert!(unscopable, "{logical_id}: {action} on Resource *");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_state_machine_may_invoke_only_its_five_functions_and_the_api_only_start_it() {
    for (workflow, action) in [
        (WorkflowKind::Standard, "states:StartExecution"),
        (WorkflowKind::Express, "states:StartSyncExecution"),
    ] {
        let document = document(workflow);
        let role = resource(&document, "OrderWorkflowRole");
        let invoke = statements(role, "InvokeWorkflowFunctions");
        let expected_functions: Vec<Value> = [
            names::IS_ITEM_IN_STOCK,
            names::UPDATE_ITEM_STOCK,
            names::CREATE_ORDER,
            names::CONFIRM_ORDER,
            names::CANCEL_ORDER,
        ]
        .iter()
        .map(|name| get_att(&format!("{}Function", shop::logical_name(name)), "Arn"))
        .collect();
        assert_eq!(
            invoke,
            vec![(
                vec!["lambda:InvokeFunction".to_owned()],
                json!(expected_functions)
            )]
        );
        let api_role = resource(&document, "CreateOrderApiRole");
        assert_eq!(
            statements(api_role, "StartOrderWorkflow"),
            vec![(vec![action.to_owned()], json!([reference("OrderWorkflow")]))]
        );
        let machine = resource(&document, "OrderWorkflow");
        let expected_type = if workflow == WorkflowKind::Express {
            "EXPRESS"
        } else {
            "STANDARD"
        };
        assert_eq!(machine["Properties"]["StateMachineType"], expected_type);
        let method = resource(&document, "CreateOrderMethod");
        let uri = method["Properties"]["Integration"]["Uri"]["Fn::Sub"]
            .as_str()
            .expect("Sub");
        assert!(
            uri.ends_with(&format!(":states:action/{}", &action["states:".len()..])),
            "{uri}"
        );
    }
}

fn task_function(state: &Value) -> String {
    state["Parameters"]["FunctionName"]
        .as_str()
        .expect("FunctionName")
        .to_owned()
}

#[test]
fn the_workflow_follows_the_contract() {
    let document = document(WorkflowKind::Standard);
    let properties = &resource(&document, "OrderWorkflow")["Properties"];
    let definition = &properties["Definition"];
    // It reads back into the typed model and passes validation against the template's functions.
    let model =
        asl::StateMachine::from_json(&definition.to_string()).expect("the definition reads back");
    let substitutions = properties["DefinitionSubstitutions"]
        .as_object()
        .expect("substitutions");
    let context = asl::ValidationContext::new()
        .require_known_functions()
        .with_substitutions(substitutions.keys());
    asl::validate(&model, &context).expect("valid");

    let states = &definition["States"];
    assert_eq!(definition["StartAt"], "AssignOrderId");
    assert_eq!(
        states["AssignOrderId"]["Parameters"],
        json!({"orderId.$": "$$.Execution.Name", "lines.$": "$.order"})
    );
    assert_eq!(states["AssignOrderId"]["Next"], "CheckStock");
    assert_eq!(states["CheckStock"]["Type"], "Map");
    assert_eq!(states["CheckStock"]["ItemsPath"], "$.lines");
    assert_eq!(states["CheckStock"]["Next"], "PlaceOrder");
    assert!(
        states["CheckStock"].get("Catch").is_none(),
        "a failed check ends the execution as is"
    );
    let place = &states["PlaceOrder"];
    assert_eq!(place["Type"], "Parallel");
    assert_eq!(place["Next"], "ConfirmOrder");
    assert_eq!(
        place["Catch"],
        json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CancelOrder"}])
    );
    let branches = place["Branches"].as_array().expect("branches");
    assert_eq!(branches.len(), 2);
    assert_eq!(branches[0]["StartAt"], "ReserveStock");
    assert_eq!(branches[0]["States"]["ReserveStock"]["Type"], "Map");
    assert_eq!(branches[1]["StartAt"], "CreateOrder");
    assert_eq!(states["ConfirmOrder"]["Next"], "OrderConfirmed");
    assert_eq!(
        states["ConfirmOrder"]["Catch"],
        json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CancelOrder"}]),
        "a failed confirmation is compensated too"
    );
    // One retrier for every error, throttling included: with a separate transient-error retrier first,
    // throttling would only get that retrier's few attempts and the compensation could be skipped.
    assert_eq!(
        states["CancelOrder"]["Retry"],
        json!([{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 10,
                "BackoffRate": 2, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}])
    );
    assert_eq!(states["OrderConfirmed"]["Type"], "Succeed");
    assert_eq!(states["CancelOrder"]["Next"], "OrderFailed");
    assert_eq!(
        states["OrderFailed"],
        json!({"Type": "Fail", "Comment": "Fails with the error that stopped PlaceOrder or ConfirmOrder",
               "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"})
    );

    // Each line request carries the idempotency key (orderId, lineIndex) of the contract's LineRequest.
    let line_selector = json!({
        "orderId.$": "$.orderId",
        "lineIndex.$": "$$.Map.Item.Index",
        "itemId.$": "$$.Map.Item.Value.itemId",
        "quantity.$": "$$.Map.Item.Value.quantity"
    });
    assert_eq!(states["CheckStock"]["ItemSelector"], line_selector);
    assert_eq!(
        branches[0]["States"]["ReserveStock"]["ItemSelector"],
        line_selector
    );

    // Every task invokes the function its state is named after, through lambda:invoke, with retries on
    // Lambda's transient errors.
    let tasks = [
        (
            &states["CheckStock"]["ItemProcessor"]["States"]["IsItemInStock"],
            names::IS_ITEM_IN_STOCK,
        ),
        (
            &branches[0]["States"]["ReserveStock"]["ItemProcessor"]["States"]["UpdateItemStock"],
            names::UPDATE_ITEM_STOCK,
        ),
        (&branches[1]["States"]["CreateOrder"], names::CREATE_ORDER),
        (&states["ConfirmOrder"], names::CONFIRM_ORDER),
        (&states["CancelOrder"], names::CANCEL_ORDER),
    ];
    for (state, function) in tasks {
        assert_eq!(state["Type"], "Task", "{function}");
        assert_eq!(state["Resource"], shop::LAMBDA_INVOKE, "{function}");
        let key = shop::substitution_of(function);
        assert_eq!(task_function(state), format!("${{{key}}}"), "{function}");
        assert_eq!(
            substitutions[&key],
            get_att(&format!("{}Function", shop::logical_name(function)), "Arn"),
            "{function}"
        );
        // Every task retries Lambda's transient errors and StorageError; CancelOrder's single
        // States.ALL retrier (checked above) covers them too.
        let expected_first_retry = if function == names::CANCEL_ORDER {
            json!(["States.ALL"])
        } else {
            let mut transient = errors::LAMBDA_TRANSIENT.to_vec();
            transient.push(errors::STORAGE);
            json!(transient)
        };
        assert_eq!(
            state["Retry"][0]["ErrorEquals"], expected_first_retry,
            "{function}"
        );
    }
}

#[test]
fn the_create_order_model_accepts_exactly_the_documented_bodies() {
    let schema = shop::create_order_schema();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("the model is a valid draft-4 schema");
    let cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/create_order_bodies.json"),
        )
        .expect("data file"),
    )
    .expect("JSON");
    let line = |id: &str| json!({"itemId": id, "quantity": 1});
    for case in cases {
        let body = match &case["body"] {
            Value::String(marker) if marker == "MAX_LINES" => {
                json!(vec![line("apple"); limits::MAX_ORDER_LINES])
            }
            Value::String(marker) if marker == "MAX_LINES_PLUS_ONE" => {
                json!(vec![line("apple"); limits::MAX_ORDER_LINES + 1])
            }
            other => {
                let mut body = other.clone();
                if let Some(lines) = body.as_array_mut() {
                    for line in lines {
                        match line["itemId"].as_str() {
                            Some("LONGEST_ID_128") => {
                                line["itemId"] = json!("x".repeat(limits::MAX_ITEM_ID_CHARS))
                            }
                            Some("LONGEST_ID_129") => {
                                line["itemId"] = json!("x".repeat(limits::MAX_ITEM_ID_CHARS + 1))
                            }
                            _ => {}
                        }
                    }
                }
                body
            }
        };
        assert_eq!(
            validator.is_valid(&body),
            case["valid"] == true,
            "{}",
            case["why"]
        );
    }
}

#[test]
fn the_api_routes_and_mapping_templates_are_wired_as_documented() {
    let document = document(WorkflowKind::Standard);
    let permission = resource(&document, "CreateStoreItemInvokePermission");
    assert_eq!(
        permission["Properties"]["SourceArn"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/${Stage}/POST/create-store-item"
    );
    let store_item = &resource(&document, "CreateStoreItemMethod")["Properties"];
    assert_eq!(store_item["HttpMethod"], "POST");
    assert_eq!(store_item["Integration"]["Type"], "AWS_PROXY");

    let order = &resource(&document, "CreateOrderMethod")["Properties"];
    assert_eq!(
        order["RequestValidatorId"],
        reference("CreateOrderValidator")
    );
    assert_eq!(
        order["RequestModels"]["application/json"],
        reference("CreateOrderModel")
    );
    assert_eq!(order["Integration"]["PassthroughBehavior"], "NEVER");
    assert_eq!(
        order["Integration"]["Credentials"],
        get_att("CreateOrderApiRole", "Arn")
    );
    let request = &order["Integration"]["RequestTemplates"]["application/json"]["Fn::Sub"];
    assert_eq!(request[0], shop::mapping::CREATE_ORDER_REQUEST);
    assert_eq!(
        request[1],
        json!({"StateMachineArn": reference("OrderWorkflow")})
    );
    assert_eq!(
        order["Integration"]["IntegrationResponses"][0]["ResponseTemplates"]["application/json"],
        shop::mapping::CREATE_ORDER_RESPONSE
    );

    let stage = &resource(&document, "ShopApiStage")["Properties"];
    assert_eq!(stage["StageName"], reference("StageName"));
    assert_eq!(document["Parameters"]["StageName"]["Default"], "prod");
    assert_eq!(stage["TracingEnabled"], true);
    assert_eq!(
        stage["MethodSettings"][0]["ThrottlingRateLimit"],
        reference("ThrottlingRateLimit")
    );
    let url = &document["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"];
    assert_eq!(
        url[0],
        "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/"
    );
}

#[test]
fn mapping_templates_document_themselves_and_name_every_business_error() {
    let templates = [
        (
            "create-order-request.vtl",
            shop::mapping::CREATE_ORDER_REQUEST,
        ),
        (
            "create-order-response.vtl",
            shop::mapping::CREATE_ORDER_RESPONSE,
        ),
        (
            "create-order-sync-request.vtl",
            shop::mapping::CREATE_ORDER_SYNC_REQUEST,
        ),
        (
            "create-order-sync-response.vtl",
            shop::mapping::CREATE_ORDER_SYNC_RESPONSE,
        ),
    ];
    for (file, text) in templates {
        assert!(
            text.starts_with("## "),
            "{file} opens with its comment block"
        );
        assert!(text.contains("How it is meant to behave"), "{file}");
        let placeholders = synth::expr::sub_variables(text);
        if file.contains("request") {
            assert_eq!(
                placeholders,
                ["StateMachineArn"],
                "{file}: only the ARN is substituted"
            );
        } else {
            assert!(placeholders.is_empty(), "{file}: nothing for Fn::Sub");
        }
    }
    for error in errors::BUSINESS {
        assert!(
            shop::mapping::CREATE_ORDER_SYNC_RESPONSE.contains(&format!("$error == \"{error}\"")),
            "the Express response maps {error} to 409"
        );
    }
}
