//! The CloudFormation model: intrinsics and resources serialize to the expected JSON (kept as data files
//! next to this test), and references that could not resolve in CloudFormation fail synth clearly.

use std::path::PathBuf;

use indexmap::IndexMap;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use synth::apigateway::{ApiResource, Deployment, RestApi};
use synth::dynamodb::Table;
use synth::iam::{Action, Role, Statement};
use synth::lambda::{Code, Environment, Function, Permission};
use synth::logs::LogGroup;
use synth::stepfunctions::{StateMachine, StateMachineType};
use synth::{Condition, Expr, Output, Parameter, Pseudo, ResourceOptions, SynthError, Template};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(path)
}

fn read_json(path: &str) -> Value {
    let text =
        std::fs::read_to_string(data(path)).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Compares with an expected JSON file; `SYNTH_UPDATE_EXPECTED=1` rewrites it (review the diff!).
fn assert_matches_file(actual: &Value, path: &str) {
    if std::env::var_os("SYNTH_UPDATE_EXPECTED").is_some() {
        let text = serde_json::to_string_pretty(actual).expect("serializes") + "\n";
        std::fs::write(data(path), text).expect("writes the expected file");
    }
    assert_eq!(
        actual,
        &read_json(path),
        "{path} (SYNTH_UPDATE_EXPECTED=1 rewrites it)"
    );
}

fn invoke_definition(substitution: &str) -> asl::StateMachine {
    asl::StateMachine::new("Call").state(
        "Call",
        asl::Task::new("arn:aws:states:::lambda:invoke")
            .parameters(json!({ "FunctionName": format!("${{{substitution}}}"), "Payload.$": "$" }))
            .end(),
    )
}

fn minimal_function(role: Expr) -> Function {
    Function {
        description: None,
        code: Code::LocalZip("../target/lambda/f/bootstrap.zip".into()),
        handler: "bootstrap".into(),
        runtime: "provided.al2023".into(),
        architectures: vec![Expr::str("arm64")],
        memory_size: 128,
        timeout: 3,
        role,
        environment: None,
        logging_config: None,
        tracing_config: None,
        reserved_concurrent_executions: None,
    }
}

#[test]
fn every_intrinsic_serializes_in_long_form() {
    let expected = read_json("data/intrinsics.json");
    let mut template = Template::new();
    let stage = template
        .add_parameter("Stage", Parameter::string("stage", "prod"))
        .expect("parameter");
    let is_prod = template
        .add_condition("IsProd", Condition::equals(stage.value(), "prod"))
        .expect("condition");
    let table = template
        .add("Table", Table::with_string_keys("PK", "SK"))
        .expect("table");
    let cases: Vec<(&str, Expr)> = vec![
        ("literal_string", Expr::str("plain")),
        ("literal_int", Expr::from(42_i64)),
        ("literal_bool", Expr::from(true)),
        ("ref_resource", table.name()),
        ("ref_parameter", stage.value()),
        ("get_att", table.arn()),
        ("pseudo_region", Expr::pseudo(Pseudo::Region)),
        ("pseudo_partition", Pseudo::Partition.into()),
        ("pseudo_account", Pseudo::AccountId.into()),
        ("pseudo_stack_name", Pseudo::StackName.into()),
        ("pseudo_url_suffix", Pseudo::UrlSuffix.into()),
        ("pseudo_no_value", Pseudo::NoValue.into()),
        (
            "sub_pseudo_only",
            Expr::sub("arn:${AWS::Partition}:s3:::bucket-${AWS::Region}"),
        ),
        (
            "sub_with_variables",
            Expr::sub_with(
                "${TableArn}/index/*:${Stage}:${!Literal}",
                [("TableArn", table.arn()), ("Stage", stage.value())],
            ),
        ),
        (
            "join",
            Expr::join("/", [Expr::str("a"), table.name(), Pseudo::Region.into()]),
        ),
        (
            "select_split",
            Expr::select(1, Expr::split(":", table.arn())),
        ),
        (
            "if_condition",
            is_prod.choose(stage.value(), Pseudo::NoValue),
        ),
        ("list", Expr::List(vec![Expr::str("x"), stage.value()])),
    ];
    let expected_names: Vec<&str> = expected
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let case_names: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        case_names, expected_names,
        "every case has an expected value"
    );
    for (name, expr) in cases {
        let output_id: String = name.split('_').map(|word| word.to_uppercase()).collect();
        template
            .add_output(&output_id, Output::new(name, expr))
            .expect("output");
    }
    let document = template.to_document().expect("synth");
    for (name, expected_value) in expected.as_object().expect("object") {
        let output_id: String = name.split('_').map(|word| word.to_uppercase()).collect();
        assert_eq!(
            &document["Outputs"][&output_id]["Value"], expected_value,
            "case {name}"
        );
    }
}

#[test]
fn conditions_serialize_as_condition_functions() {
    let expected = read_json("data/conditions.json");
    let mut template = Template::new();
    let stage = template
        .add_parameter("Stage", Parameter::string("stage", "prod"))
        .expect("parameter");
    let is_prod = template
        .add_condition("IsProd", Condition::equals(stage.value(), "prod"))
        .expect("condition");
    let cases = [
        ("equals", Condition::equals(stage.value(), "prod")),
        ("not", !Condition::equals(stage.value(), "prod")),
        (
            "and",
            Condition::And(vec![
                is_prod.as_condition(),
                Condition::equals(Pseudo::Region, "eu-west-1"),
            ]),
        ),
        (
            "or",
            Condition::Or(vec![is_prod.as_condition(), Condition::equals("a", "b")]),
        ),
    ];
    for (name, condition) in cases {
        let handle = template
            .add_condition(&format!("Case{name}"), condition)
            .expect("condition");
        // Synth refuses unused conditions (cfn-lint would warn), so each one chooses an output value.
        template
            .add_output(
                &format!("Uses{name}"),
                Output::new(name, handle.choose("yes", "no")),
            )
            .expect("output");
    }
    template
        .add_with(
            "Table",
            Table::with_string_keys("PK", "SK"),
            ResourceOptions::new().condition(&is_prod),
        )
        .expect("table");
    let document = template.to_document().expect("synth");
    assert_eq!(document["Resources"]["Table"]["Condition"], json!("IsProd"));
    for (name, expected_condition) in expected.as_object().expect("object") {
        assert_eq!(
            &document["Conditions"][format!("Case{name}")],
            expected_condition,
            "case {name}"
        );
        assert_eq!(
            document["Outputs"][format!("Uses{name}")]["Value"],
            json!({"Fn::If": [format!("Case{name}"), "yes", "no"]})
        );
    }
}

#[test]
fn resources_serialize_with_their_attributes_in_a_fixed_order() {
    let mut template = Template::new();
    template.set_description("resources");
    let architecture = template
        .add_parameter(
            "Architecture",
            Parameter::string("instruction set", "arm64").allowed_values(["arm64", "x86_64"]),
        )
        .expect("parameter");
    let table = template
        .add_with(
            "Table",
            Table::with_string_keys("PK", "SK"),
            ResourceOptions::new()
                .retain()
                .checkov_skip("CKV_AWS_119", "why not")
                .metadata("Note", json!("kept")),
        )
        .expect("table");
    let logs = template
        .add("Logs", LogGroup::with_retention(30_i64))
        .expect("log group");
    let role = template
        .add(
            "Role",
            Role::for_service("lambda.amazonaws.com", "runs f")
                .with_policy(
                    "Table",
                    vec![Statement::allow(
                        [
                            Action::new("dynamodb", "PutItem"),
                            Action::new("dynamodb", "GetItem"),
                        ],
                        [table.arn()],
                    )],
                )
                .with_policy(
                    "Tracing",
                    vec![Statement::allow_unscoped(
                        [Action::new("xray", "PutTraceSegments")],
                        "no resource-level permission",
                    )],
                ),
        )
        .expect("role");
    let function = template
        .add_with(
            "Function",
            Function {
                architectures: vec![architecture.value()],
                environment: Some(Environment {
                    variables: IndexMap::from([("TABLE_NAME".to_owned(), table.name())]),
                }),
                ..minimal_function(role.arn())
            },
            ResourceOptions::new()
                .depends_on(&logs)
                .metadata("BuildMethod", json!("rust-cargolambda"))
                .cfn_lint_ignore("W3002"),
        )
        .expect("function");
    let api = template
        .add(
            "Api",
            RestApi {
                name: Expr::sub("${AWS::StackName}-api"),
                description: None,
                endpoint_configuration: None,
            },
        )
        .expect("api");
    template
        .add(
            "Path",
            ApiResource {
                rest_api_id: api.id(),
                parent_id: api.root_resource_id(),
                path_part: "items".into(),
            },
        )
        .expect("resource");
    template
        .add(
            "Permission",
            Permission::invoke(
                &function,
                "apigateway.amazonaws.com",
                Expr::sub_with(
                    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/items",
                    [("Api", api.id())],
                ),
            ),
        )
        .expect("permission");
    template
        .add(
            "Deployment",
            Deployment {
                rest_api_id: api.id(),
                description: None,
            },
        )
        .expect("deployment");
    let machine = template
        .add(
            "Machine",
            StateMachine {
                state_machine_type: StateMachineType::Express,
                definition: invoke_definition("FunctionArn"),
                definition_substitutions: IndexMap::from([(
                    "FunctionArn".to_owned(),
                    function.arn(),
                )]),
                role_arn: role.arn(),
                logging_configuration: None,
                tracing_configuration: None,
            },
        )
        .expect("state machine");
    template
        .add_output("MachineArn", Output::new("the machine", machine.arn()))
        .expect("output");
    let document = template.to_document().expect("synth");
    assert_matches_file(&document, "expected/resources.json");
}

fn table_template() -> (Template, synth::Handle<Table>) {
    let mut template = Template::new();
    let table = template
        .add("Table", Table::with_string_keys("PK", "SK"))
        .expect("table");
    (template, table)
}

fn synth_error(template: &Template) -> String {
    match template.to_document() {
        Ok(_) => panic!("synth should have failed"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_handle_from_another_template_fails_synth_naming_both_ends() {
    let (_other, foreign_table) = table_template();
    let (mut template, _own_table) = table_template();
    template
        .add_output("Leak", Output::new("a foreign table", foreign_table.arn()))
        .expect("output");
    let message = synth_error(&template);
    assert!(message.contains("output `Leak`"), "{message}");
    assert!(message.contains("`Table`"), "{message}");
    assert!(message.contains("another template"), "{message}");
}

#[test]
fn a_foreign_handle_in_depends_on_or_properties_fails_too() {
    let (_other, foreign_table) = table_template();
    let (mut template, _) = table_template();
    template
        .add_with(
            "Logs",
            LogGroup::with_retention(7_i64),
            ResourceOptions::new().depends_on(&foreign_table),
        )
        .expect("log group");
    assert!(synth_error(&template).contains("resource `Logs`"));

    let (mut template, _) = table_template();
    template
        .add(
            "Role",
            Role::for_service("lambda.amazonaws.com", "r").with_policy(
                "P",
                vec![Statement::allow(
                    [Action::new("dynamodb", "GetItem")],
                    [foreign_table.arn()],
                )],
            ),
        )
        .expect("role");
    let message = synth_error(&template);
    assert!(
        message.contains("resource `Role` (AWS::IAM::Role)"),
        "{message}"
    );
    assert!(message.contains("another template"), "{message}");
}

#[test]
fn sub_variables_must_be_pseudo_parameters_or_bound() {
    let (mut template, _) = table_template();
    template
        .add_output("Arn", Output::new("raw name", Expr::sub("${Table.Arn}")))
        .expect("output");
    let message = synth_error(&template);
    assert!(message.contains("`${Table.Arn}`"), "{message}");
    assert!(message.contains("output `Arn`"), "{message}");
}

#[test]
fn unused_parameters_and_conditions_are_refused() {
    let (mut template, _) = table_template();
    template
        .add_parameter("Unused", Parameter::string("nobody reads me", "x"))
        .expect("parameter");
    assert!(
        matches!(template.to_document(), Err(SynthError::UnusedParameter(name)) if name == "Unused")
    );

    let (mut template, _) = table_template();
    template
        .add_condition("Never", Condition::equals("a", "b"))
        .expect("condition");
    assert!(
        matches!(template.to_document(), Err(SynthError::UnusedCondition(name)) if name == "Never")
    );
}

#[test]
fn logical_ids_are_checked_when_added() {
    let (mut template, _) = table_template();
    assert!(matches!(
        template.add("Table", Table::with_string_keys("PK", "SK")),
        Err(SynthError::DuplicateLogicalId(name)) if name == "Table"
    ));
    assert!(matches!(
        template.add_parameter("Table", Parameter::string("clash", "x")),
        Err(SynthError::DuplicateLogicalId(_))
    ));
    for bad in ["", "with-dash", "with space", "ümlaut"] {
        assert!(
            matches!(
                template.add(bad, LogGroup::with_retention(1_i64)),
                Err(SynthError::InvalidLogicalId(_))
            ),
            "{bad:?} should be refused"
        );
    }
    assert!(matches!(
        Template::new().to_document(),
        Err(SynthError::NoResources)
    ));
}

#[test]
fn policies_refuse_wildcard_actions_and_unexplained_wildcard_resources() {
    let (mut template, _) = table_template();
    template
        .add(
            "Role",
            Role::for_service("lambda.amazonaws.com", "r").with_policy(
                "P",
                vec![Statement::allow(
                    [Action::new("dynamodb", "*")],
                    [Expr::str("arn:aws:dynamodb:::x")],
                )],
            ),
        )
        .expect("role");
    assert!(synth_error(&template).contains("wildcard action `dynamodb:*`"));

    let (mut template, _) = table_template();
    template
        .add(
            "Role",
            Role::for_service("lambda.amazonaws.com", "r").with_policy(
                "P",
                vec![Statement::allow(
                    [Action::new("dynamodb", "GetItem")],
                    [Expr::str("*")],
                )],
            ),
        )
        .expect("role");
    assert!(synth_error(&template).contains("applies to `*`"));
}

fn machine_template(
    substitution_value: impl FnOnce(&synth::Handle<Function>, &synth::Handle<Table>) -> Expr,
    key: &str,
    used: &str,
) -> Template {
    let (mut template, table) = table_template();
    let role = template
        .add("Role", Role::for_service("states.amazonaws.com", "r"))
        .expect("role");
    let function = template
        .add("Function", minimal_function(role.arn()))
        .expect("function");
    let value = substitution_value(&function, &table);
    template
        .add(
            "Machine",
            StateMachine {
                state_machine_type: StateMachineType::Standard,
                definition: invoke_definition(used),
                definition_substitutions: IndexMap::from([(key.to_owned(), value)]),
                role_arn: role.arn(),
                logging_configuration: None,
                tracing_configuration: None,
            },
        )
        .expect("machine");
    template
}

#[test]
fn state_machine_tasks_must_invoke_a_function_of_the_template() {
    let valid = machine_template(|function, _| function.arn(), "FunctionArn", "FunctionArn");
    valid
        .to_document()
        .expect("a task invoking the template's function synthesizes");

    // The substitution exists but holds a table's ARN: not a function of the template.
    let message = synth_error(&machine_template(
        |_, table| table.arn(),
        "FunctionArn",
        "FunctionArn",
    ));
    assert!(message.contains("state machine `Machine`"), "{message}");
    assert!(message.contains("[known-function]"), "{message}");
    assert!(message.contains("Call"), "names the state: {message}");

    // The definition uses a placeholder nobody substitutes.
    let message = synth_error(&machine_template(
        |function, _| function.arn(),
        "FunctionArn",
        "Missing",
    ));
    assert!(message.contains("`${Missing}`"), "{message}");

    // A substitution the definition never uses.
    let message = synth_error(&machine_template(
        |function, _| function.arn(),
        "Other",
        "FunctionArn",
    ));
    assert!(message.contains("`${FunctionArn}`"), "{message}");
}

#[test]
fn an_invalid_definition_fails_synth_with_the_validator_messages() {
    let (mut template, _) = table_template();
    let role = template
        .add("Role", Role::for_service("states.amazonaws.com", "r"))
        .expect("role");
    let definition = asl::StateMachine::new("Start")
        .state("Start", asl::Pass::new().next("Nowhere"))
        .state("Orphan", asl::Succeed::new());
    template
        .add(
            "Machine",
            StateMachine {
                state_machine_type: StateMachineType::Standard,
                definition,
                definition_substitutions: IndexMap::new(),
                role_arn: role.arn(),
                logging_configuration: None,
                tracing_configuration: None,
            },
        )
        .expect("machine");
    let message = synth_error(&template);
    assert!(message.contains("[target-exists]"), "{message}");
    assert!(message.contains("Nowhere"), "{message}");
    assert!(message.contains("[reachable]"), "{message}");
}
