//! The project's own mapping templates (`templates/*.vtl`, written by `synth`) parse, and the response
//! templates give valid JSON and the documented status for each answer Step Functions can give.

use std::path::Path;

use serde_json::{Value, json};
use vtl::Template;
use vtl::apigw::ApiGatewayRequest;

fn load(name: &str) -> Template {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../templates")
        .join(name);
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // CloudFormation's Fn::Sub fills this in before API Gateway sees the template.
    let source = source.replace(
        "${StateMachineArn}",
        "arn:aws:states:eu-west-1:123456789012:stateMachine:Orders",
    );
    Template::parse(&source).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn request() -> ApiGatewayRequest {
    let mut request = ApiGatewayRequest::default();
    request.context.request_id = "req-1".into();
    request.context.stage = "prod".into();
    request
}

#[test]
fn every_shipped_template_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("templates/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "vtl") {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            load(&name);
            count += 1;
        }
    }
    assert!(
        count >= 2,
        "expected the create-order templates in {}",
        dir.display()
    );
}

#[test]
fn async_response_gives_the_execution_arn_as_json() {
    let template = load("create-order-response.vtl");
    let answer = r#"{"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:Orders:req-1", "startDate": 1.733088e9}"#;
    let rendered = template
        .render(&mut request().response_context(answer))
        .expect("renders");
    let body: Value = serde_json::from_str(&rendered.body).expect("valid JSON");
    assert_eq!(body["orderId"], json!("req-1"));
    assert_eq!(
        body["executionArn"],
        json!("arn:aws:states:eu-west-1:123456789012:execution:Orders:req-1")
    );
    assert_eq!(rendered.response_override.status, None);
}

#[test]
fn sync_response_maps_each_outcome() {
    let template = load("create-order-sync-response.vtl");
    let cause = json!({"errorType": "OutOfStock", "errorMessage": "item 'O\\'Brien \"tea\"' has 0 in stock, 2 requested"}).to_string();
    let outcomes = [
        (
            json!({"status": "SUCCEEDED", "output": "{\"orderId\":\"req-1\",\"status\":\"CONFIRMED\"}"}),
            None,
            "CONFIRMED",
        ),
        (
            json!({"status": "FAILED", "error": "OutOfStock", "cause": cause}),
            Some(409),
            "OutOfStock",
        ),
        (
            json!({"status": "FAILED", "error": "ItemNotFound", "cause": json!({"errorType": "ItemNotFound", "errorMessage": "no item 'x'"}).to_string()}),
            Some(409),
            "ItemNotFound",
        ),
        (json!({"status": "TIMED_OUT"}), Some(504), "Timeout"),
        (
            json!({"status": "FAILED", "error": "States.Runtime", "cause": "boom"}),
            Some(500),
            "States.Runtime",
        ),
    ];
    for (answer, status, marker) in outcomes {
        let rendered = template
            .render(&mut request().response_context(&answer.to_string()))
            .expect("renders");
        let body: Value = serde_json::from_str(&rendered.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}) for {answer}:\n{}", rendered.body));
        assert_eq!(rendered.response_override.status, status, "{answer}");
        assert!(body.to_string().contains(marker), "{answer} -> {body}");
        if status == Some(409) && marker == "OutOfStock" {
            assert_eq!(
                body["message"],
                json!("item 'O\\'Brien \"tea\"' has 0 in stock, 2 requested")
            );
        }
    }
}
