//! The create-order response templates, rendered with the `vtl` crate as API Gateway renders an
//! integration response: always valid JSON, and for the Express workflow the status the template's
//! comment promises (`$context.responseOverride.status`). Cases: tests/data/sync_responses.json.

use std::path::PathBuf;

use serde_json::{Value, json};
use synth::shop::mapping;
use vtl::Template;
use vtl::apigw::ApiGatewayRequest;

const REQUEST_ID: &str = "REQ";

fn render(source: &str, backend_answer: &Value) -> vtl::Rendered {
    let template = Template::parse(source).expect("the template parses");
    let mut request = ApiGatewayRequest {
        body: backend_answer.to_string(),
        ..Default::default()
    };
    request.context.request_id = REQUEST_ID.into();
    template
        .render(&mut request.request_context())
        .expect("the template renders")
}

#[test]
fn the_express_response_maps_every_outcome_to_its_status_and_valid_json() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sync_responses.json");
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("data file")).expect("JSON");
    assert!(!cases.is_empty());
    for case in cases {
        let why = &case["why"];
        let rendered = render(mapping::CREATE_ORDER_SYNC_RESPONSE, &case["response"]);
        let body: Value = serde_json::from_str(&rendered.body)
            .unwrap_or_else(|error| panic!("{why}: not JSON ({error}):\n{}", rendered.body));
        assert_eq!(body, case["body"], "{why}");
        assert_eq!(
            rendered
                .response_override
                .status
                .map(Value::from)
                .unwrap_or(Value::Null),
            case["status"],
            "{why}"
        );
    }
}

#[test]
fn the_standard_response_gives_the_order_id_and_the_execution_arn() {
    let arn = "arn:aws:states:eu-west-1:123456789012:execution:OrderWorkflow:REQ";
    let rendered = render(
        mapping::CREATE_ORDER_RESPONSE,
        &json!({"executionArn": arn, "startDate": 1.764625e9}),
    );
    let body: Value = serde_json::from_str(&rendered.body)
        .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}", rendered.body));
    assert_eq!(body["orderId"], REQUEST_ID);
    assert_eq!(body["executionArn"], arn);
    assert!(body["startDate"].is_number(), "{body}");
    assert_eq!(rendered.response_override.status, None);
}
