//! The binary driven through a Lambda Runtime API with real API Gateway proxy events.

use serde_json::Value;
use shop::testing::{Engine, Invocation, WireFunction};
use std::path::Path;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shop/tests/fixtures/apigw")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_proxy_events_with_proxy_responses() {
    let engine = Engine::start().await;
    let binary = Path::new(env!("CARGO_BIN_EXE_create-store-item"));
    let mut function = WireFunction::start(binary, "create-store-item", &engine).await;
    for (file, status, error) in [
        ("create_store_item.json", 201, None),
        ("create_store_item.json", 409, Some("ItemAlreadyExists")),
        ("create_store_item_base64.json", 201, None),
        (
            "create_store_item_bad_quantity.json",
            400,
            Some("InvalidQuantity"),
        ),
        ("create_store_item_no_body.json", 400, Some("MissingBody")),
    ] {
        let Invocation::Response { body: response, .. } = function.call(fixture(file)).await else {
            panic!("{file}: a proxy integration always gets a response, never a function error")
        };
        assert_eq!(response["statusCode"], status, "{file}: {response}");
        assert_eq!(response["headers"]["content-type"], "application/json");
        assert_eq!(response["isBase64Encoded"], false);
        let body: Value = serde_json::from_str(response["body"].as_str().expect("string body"))
            .expect("JSON body");
        assert_eq!(
            body.get("error").and_then(Value::as_str),
            error,
            "{file}: {body}"
        );
    }
    assert_eq!(engine.shop.stock("apple").await.expect("read"), Some(10));
    assert_eq!(engine.shop.stock("pear").await.expect("read"), Some(3));
}
