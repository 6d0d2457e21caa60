//! The release-shaped binary driven through a Lambda Runtime API: payloads in, contract results and
//! `errorType`s out, exactly as Step Functions sees them.

use serde_json::json;
use shop::testing::{Engine, Invocation, WireFunction};
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserves_once_and_reports_contract_error_types() {
    let engine = Engine::start().await;
    engine
        .shop
        .create_store_item("apple", 3)
        .await
        .expect("seed");
    let binary = Path::new(env!("CARGO_BIN_EXE_update-item-stock"));
    let mut function = WireFunction::start(binary, "update-item-stock", &engine).await;

    let line = json!({"orderId": "exec-1", "lineIndex": 0, "itemId": "apple", "quantity": 2});
    let Invocation::Response { body, .. } = function.call(line.clone()).await else {
        panic!("the first reservation succeeds")
    };
    assert_eq!(
        body,
        json!({"orderId": "exec-1", "lineIndex": 0, "itemId": "apple", "quantity": 2, "applied": true})
    );
    let Invocation::Response { body, .. } = function.call(line).await else {
        panic!("the retry succeeds")
    };
    assert_eq!(body["applied"], false);

    let cases = [
        (
            json!({"orderId": "exec-2", "lineIndex": 0, "itemId": "apple", "quantity": 2}),
            "OutOfStock",
        ),
        (
            json!({"orderId": "exec-2", "lineIndex": 0, "itemId": "pear", "quantity": 1}),
            "ItemNotFound",
        ),
        (
            json!({"item": {"itemId": "apple", "quantity": 1}}),
            "InvalidInput",
        ),
    ];
    for (event, error_type) in cases {
        match function.call(event.clone()).await {
            Invocation::Error { body, .. } => {
                assert_eq!(body["errorType"], error_type, "{event}: {body}");
                assert!(
                    body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
                    "{body}"
                );
            }
            other => panic!("{event}: expected {error_type}, got {other:?}"),
        }
    }
    assert_eq!(engine.shop.stock("apple").await.expect("read"), Some(1));
}
