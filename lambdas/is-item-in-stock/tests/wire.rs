//! The binary driven through a Lambda Runtime API, and its start without `TABLE_NAME`.

use serde_json::json;
use shop::testing::{Engine, Invocation, RuntimeApi, WireFunction, function_command};
use std::path::Path;

const BINARY: &str = env!("CARGO_BIN_EXE_is-item-in-stock");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stock_checks_with_contract_error_types() {
    let engine = Engine::start().await;
    engine
        .shop
        .create_store_item("apple", 3)
        .await
        .expect("seed");
    let mut function = WireFunction::start(Path::new(BINARY), "is-item-in-stock", &engine).await;

    let ok = function
        .call(json!({"orderId": "exec-1", "lineIndex": 0, "itemId": "apple", "quantity": 3}))
        .await;
    assert_eq!(
        ok,
        Invocation::Response {
            request_id: match &ok {
                Invocation::Response { request_id, .. } => request_id.clone(),
                _ => String::new(),
            },
            body: json!({"itemId": "apple", "requested": 3, "available": 3}),
        }
    );
    for (event, error_type) in [
        (
            json!({"orderId": "exec-1", "lineIndex": 0, "itemId": "apple", "quantity": 4}),
            "OutOfStock",
        ),
        (
            json!({"orderId": "exec-1", "lineIndex": 0, "itemId": "pear", "quantity": 1}),
            "ItemNotFound",
        ),
        (
            json!({"orderId": "exec-1", "lineIndex": 0, "itemId": "apple", "quantity": 0}),
            "InvalidInput",
        ),
    ] {
        match function.call(event.clone()).await {
            Invocation::Error { body, .. } => {
                assert_eq!(body["errorType"], error_type, "{event}: {body}")
            }
            other => panic!("{event}: expected {error_type}, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_to_start_without_table_name() {
    let engine = Engine::start().await;
    let runtime = RuntimeApi::start("is-item-in-stock").await;
    let output = function_command(Path::new(BINARY), "is-item-in-stock", &runtime, &engine)
        .env_remove("TABLE_NAME")
        .output()
        .await
        .expect("the binary runs");
    assert!(!output.status.success(), "it must not start");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        logs.contains("TABLE_NAME"),
        "the error names the variable: {logs}"
    );
    // The log line is structured JSON.
    let first = logs
        .lines()
        .find(|l| l.contains("TABLE_NAME"))
        .expect("a log line");
    let parsed: serde_json::Value = serde_json::from_str(first).expect("JSON log line");
    assert_eq!(parsed["level"], "ERROR");
}
