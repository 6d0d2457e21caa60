//! The binary driven through a Lambda Runtime API.

use serde_json::json;
use shop::testing::{Engine, Invocation, WireFunction};
use shop_contract::{LineRequest, OrderLine, OrderRequest};
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirms_reserved_orders_and_refuses_cancelled_ones() {
    let engine = Engine::start().await;
    let shop = &engine.shop;
    shop.create_store_item("apple", 5).await.expect("seed");
    for order_id in ["exec-1", "exec-2"] {
        let lines = vec![OrderLine {
            item_id: "apple".into(),
            quantity: 1,
        }];
        shop.create_order(&OrderRequest {
            order_id: order_id.into(),
            lines,
        })
        .await
        .expect("created");
        let line = LineRequest {
            order_id: order_id.into(),
            line_index: 0,
            item_id: "apple".into(),
            quantity: 1,
        };
        shop.reserve_line(&line).await.expect("reserved");
    }
    shop.cancel_order(&OrderRequest {
        order_id: "exec-2".into(),
        lines: vec![],
    })
    .await
    .expect("cancelled");

    let binary = Path::new(env!("CARGO_BIN_EXE_confirm-order"));
    let mut function = WireFunction::start(binary, "confirm-order", &engine).await;
    for _ in 0..2 {
        match function.call(json!({"orderId": "exec-1"})).await {
            Invocation::Response { body, .. } => {
                assert_eq!(body, json!({"orderId": "exec-1", "status": "CONFIRMED"}))
            }
            other => panic!("expected a confirmation, got {other:?}"),
        }
    }
    match function.call(json!({"orderId": "exec-2"})).await {
        Invocation::Error { body, .. } => assert_eq!(body["errorType"], "OrderCancelled", "{body}"),
        other => panic!("expected OrderCancelled, got {other:?}"),
    }
}
