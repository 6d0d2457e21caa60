//! The binary driven through a Lambda Runtime API.

use serde_json::json;
use shop::testing::{Engine, Invocation, WireFunction};
use shop_contract::LineRequest;
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_reservations_once() {
    let engine = Engine::start().await;
    let shop = &engine.shop;
    shop.create_store_item("apple", 5).await.expect("seed");
    let line = LineRequest {
        order_id: "exec-1".into(),
        line_index: 0,
        item_id: "apple".into(),
        quantity: 2,
    };
    shop.reserve_line(&line).await.expect("reserved");

    let binary = Path::new(env!("CARGO_BIN_EXE_cancel-order"));
    let mut function = WireFunction::start(binary, "cancel-order", &engine).await;
    let order = json!({"orderId": "exec-1", "lines": [{"itemId": "apple", "quantity": 2}]});
    let mut restored = Vec::new();
    for _ in 0..2 {
        match function.call(order.clone()).await {
            Invocation::Response { body, .. } => {
                assert_eq!(body["status"], "CANCELLED");
                restored.push(body["restoredLines"].clone());
            }
            other => panic!("expected a cancellation, got {other:?}"),
        }
    }
    assert_eq!(restored, vec![json!([0]), json!([])]);
    assert_eq!(shop.stock("apple").await.expect("read"), Some(5));
    match function.call(json!({"lines": []})).await {
        Invocation::Error { body, .. } => assert_eq!(body["errorType"], "InvalidInput", "{body}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}
