use super::*;
use serde_json::json;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn context() -> DeployContext {
    DeployContext {
        region: "eu-west-1".into(),
        stack_name: "shop".into(),
        parameter_overrides: HashMap::new(),
    }
}

fn load(yaml: &str) -> Result<Stack, TemplateError> {
    Stack::from_document(parse_document(yaml).expect("fixture parses"), context())
}

#[test]
fn resolves_every_intrinsic_form_of_the_fixture() {
    let stack = Stack::load(&fixture("intrinsics.yaml"), context()).expect("template resolves");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("intrinsics.expected.json")).expect("expected file"),
    )
    .expect("expected is JSON");
    let function = &stack.resources["Fn"];
    assert_eq!(
        function.get("Environment.Variables").expect("variables"),
        &expected["Fn.Environment.Variables"]
    );
    assert_eq!(
        stack.resources["Machine"].reference,
        expected["Machine.ref"]
    );
    assert_eq!(
        stack.resources["Root"].get("MachineName").expect("name"),
        &expected["Root.MachineName"]
    );
    // A generated role name: `{stack}-{logicalId}-{suffix}`, and the Arn carries the role's Path.
    let role = &stack.resources["FnRole"].reference;
    assert!(role.starts_with("shop-FnRole-"), "{role}");
    assert_eq!(
        function.str("Role").expect("role"),
        format!("arn:aws:iam::000000000000:role/service/{role}")
    );
    // The resource whose Condition is false is not created.
    assert!(!stack.resources.contains_key("OnlyInProd"));
    let api = &stack.resources["Api"].reference;
    assert_eq!(
        stack.outputs["Url"],
        json!(format!(
            "https://{api}.execute-api.eu-west-1.amazonaws.com/prod"
        ))
    );
}

#[test]
fn names_and_ids_are_deterministic() {
    let a = Stack::load(&fixture("intrinsics.yaml"), context()).expect("resolves");
    let b = Stack::load(&fixture("intrinsics.yaml"), context()).expect("resolves");
    for (id, resource) in &a.resources {
        assert_eq!(resource.reference, b.resources[id].reference, "{id}");
    }
    let api = &a.resources["Api"];
    assert_eq!(api.reference.len(), 10);
    assert_ne!(
        a.attribute(api, "RootResourceId").expect("root id"),
        api.reference
    );
}

#[test]
fn parameter_overrides_apply_and_unknown_ones_are_refused() {
    let mut ctx = context();
    ctx.parameter_overrides.insert("Env".into(), "prod".into());
    let stack = Stack::load(&fixture("intrinsics.yaml"), ctx).expect("resolves");
    assert_eq!(
        stack.resources["Fn"].get("Environment.Variables.GONE"),
        Some(&json!("kept"))
    );
    assert!(stack.resources.contains_key("OnlyInProd"));

    let mut ctx = context();
    ctx.parameter_overrides
        .insert("Env".into(), "staging".into());
    let err = Stack::load(&fixture("intrinsics.yaml"), ctx).expect_err("not allowed");
    assert!(err.to_string().contains("AllowedValues"), "{err}");

    let mut ctx = context();
    ctx.parameter_overrides.insert("Nope".into(), "x".into());
    let err = Stack::load(&fixture("intrinsics.yaml"), ctx).expect_err("unknown");
    assert!(err.to_string().contains("Nope"), "{err}");
}

#[test]
fn errors_name_the_resource_and_the_property() {
    let cases = [
        (
            "Resources: {A: {Type: AWS::Lambda::Function, Properties: {Role: !GetAtt Missing.Arn}}}",
            "resource A, property Properties.Role.Fn::GetAtt",
            "Missing",
        ),
        (
            "Resources: {A: {Type: AWS::Lambda::Function, Properties: {X: !ImportValue other}}}",
            "resource A, property Properties.X.Fn::ImportValue",
            "not supported",
        ),
        (
            "Resources: {A: {Type: AWS::DynamoDB::Table, Properties: {X: !GetAtt A.Nope}}}",
            "resource A, property Properties.X.Fn::GetAtt",
            "attribute Nope",
        ),
        (
            "Resources: {A: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt A.Arn}}}",
            "resource A",
            "circular",
        ),
        (
            "Parameters: {P: {Type: String}}\nResources: {A: {Type: AWS::SNS::Topic}}",
            "Parameters.P",
            "no Default",
        ),
        (
            "Resources: {A: {Type: AWS::SNS::Topic, Properties: {X: !Sub '${Nope}'}}}",
            "Properties.X.Fn::Sub",
            "Nope",
        ),
        (
            "Resources: {A: {Type: AWS::SNS::Topic, Properties: {X: !Select [5, [a]]}}}",
            "Properties.X.Fn::Select",
            "out of",
        ),
    ];
    for (template, location, detail) in cases {
        let err = load(template).expect_err(template).to_string();
        assert!(err.contains(location), "{template}\n => {err}");
        assert!(err.contains(detail), "{template}\n => {err}");
    }
}

#[test]
fn json_templates_load_like_yaml_ones() {
    let stack = Stack::from_document(
        parse_document(r#"{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Join": ["", ["a", {"Ref": "AWS::Region"}]]}}}}}"#)
            .expect("json"),
        context(),
    )
    .expect("resolves");
    assert_eq!(stack.resources["T"].reference, "aeu-west-1");
}
