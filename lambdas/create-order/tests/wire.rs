//! The binary driven through a Lambda Runtime API.

use serde_json::json;
use shop::testing::{Engine, Invocation, WireFunction};
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_orders_idempotently() {
    let engine = Engine::start().await;
    let binary = Path::new(env!("CARGO_BIN_EXE_create-order"));
    let mut function = WireFunction::start(binary, "create-order", &engine).await;
    let order = json!({"orderId": "exec-1", "lines": [{"itemId": "apple", "quantity": 2}]});
    for _ in 0..2 {
        match function.call(order.clone()).await {
            Invocation::Response { body, .. } => {
                assert_eq!(body, json!({"orderId": "exec-1", "status": "PENDING"}))
            }
            other => panic!("expected the order, got {other:?}"),
        }
    }
    for (event, error_type) in [
        (
            json!({"orderId": "exec-1", "lines": [{"itemId": "apple", "quantity": 3}]}),
            "OrderConflict",
        ),
        (
            json!({"order": [{"itemId": "apple", "quantity": 3}]}),
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
