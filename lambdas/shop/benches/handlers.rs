//! Warm handler latency: each handler called as `main.rs` calls it, against dynoxide over HTTP on
//! 127.0.0.1 (so the figures include the SDK, the HTTP round trips and the engine, not Lambda itself).
//!
//! `cargo bench -p shop --bench handlers`

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use shop::handlers;
use shop::testing::Engine;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU64 = AtomicU64::new(0);

fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn line(order_id: &str, index: u32, item_id: &str) -> Value {
    json!({"orderId": order_id, "lineIndex": index, "itemId": item_id, "quantity": 1})
}

fn proxy_event(item_id: &str) -> ApiGatewayProxyRequest {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apigw/create_store_item.json"
    );
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    event["body"] = Value::String(json!({"itemId": item_id, "quantity": 5}).to_string());
    serde_json::from_value(event).expect("proxy event")
}

fn handlers_against_the_engine(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let engine = runtime.block_on(Engine::start());
    let shop = engine.shop.clone();
    runtime.block_on(async {
        for item in ["apple", "pear"] {
            shop.create_store_item(item, 1_000_000_000)
                .await
                .expect("seed");
        }
    });

    let mut group = c.benchmark_group("handler");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));

    group.bench_function("create-store-item", |b| {
        b.to_async(&runtime)
            .iter(|| handlers::create_store_item(&shop, proxy_event(&fresh("item"))))
    });
    group.bench_function("is-item-in-stock", |b| {
        b.to_async(&runtime)
            .iter(|| handlers::is_item_in_stock(&shop, line("o", 0, "apple")))
    });
    group.bench_function("update-item-stock (applied)", |b| {
        b.to_async(&runtime).iter(|| async {
            handlers::update_item_stock(&shop, line(&fresh("reserve"), 0, "apple"))
                .await
                .expect("reserved")
        })
    });
    let retried = line("retried", 0, "apple");
    runtime
        .block_on(handlers::update_item_stock(&shop, retried.clone()))
        .expect("first attempt");
    group.bench_function("update-item-stock (retry, not applied)", |b| {
        b.to_async(&runtime).iter(|| async {
            handlers::update_item_stock(&shop, retried.clone())
                .await
                .expect("retry")
        })
    });
    group.bench_function("create-order", |b| {
        b.to_async(&runtime).iter(|| async {
            let order =
                json!({"orderId": fresh("create"), "lines": [{"itemId": "apple", "quantity": 1}]});
            handlers::create_order(&shop, order).await.expect("created")
        })
    });
    group.bench_function("confirm-order (2 lines)", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let shop = shop.clone();
            async move {
                let mut measured = Duration::ZERO;
                for _ in 0..iterations {
                    let order_id = fresh("confirm");
                    let order = json!({"orderId": order_id, "lines": [
                        {"itemId": "apple", "quantity": 1}, {"itemId": "pear", "quantity": 1}]});
                    handlers::create_order(&shop, order).await.expect("created");
                    handlers::update_item_stock(&shop, line(&order_id, 0, "apple"))
                        .await
                        .expect("line 0");
                    handlers::update_item_stock(&shop, line(&order_id, 1, "pear"))
                        .await
                        .expect("line 1");
                    let started = Instant::now();
                    handlers::confirm_order(&shop, json!({"orderId": order_id}))
                        .await
                        .expect("confirmed");
                    measured += started.elapsed();
                }
                measured
            }
        })
    });
    group.bench_function("cancel-order (2 lines restored)", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let shop = shop.clone();
            async move {
                let mut measured = Duration::ZERO;
                for _ in 0..iterations {
                    let order_id = fresh("cancel");
                    handlers::update_item_stock(&shop, line(&order_id, 0, "apple"))
                        .await
                        .expect("line 0");
                    handlers::update_item_stock(&shop, line(&order_id, 1, "pear"))
                        .await
                        .expect("line 1");
                    let order = json!({"orderId": order_id, "lines": [
                        {"itemId": "apple", "quantity": 1}, {"itemId": "pear", "quantity": 1}]});
                    let started = Instant::now();
                    handlers::cancel_order(&shop, order)
                        .await
                        .expect("cancelled");
                    measured += started.elapsed();
                }
                measured
            }
        })
    });
    group.finish();
    drop(engine);
}

criterion_group!(benches, handlers_against_the_engine);
criterion_main!(benches);
