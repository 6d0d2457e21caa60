//! End to end: 200 orders racing for scarce stock through the real `local` binary (API Gateway → Step
//! Functions → Lambda processes → DynamoDB), then the contract's invariants checked on the table.
//!
//! Needs the function binaries (scripts/e2e.sh builds them).

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use support::{Emulator, Snapshot};

const ORDERS: usize = 200;
const PRODUCTS: &[(&str, i64)] = &[("apple", 40), ("pear", 30), ("plum", 20), ("fig", 10)];

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn orders() -> Vec<Value> {
    let mut random = Lcg(20_261_201);
    (0..ORDERS)
        .map(|_| {
            let count = 1 + random.next(3) as usize;
            let mut products: Vec<&str> = PRODUCTS.iter().map(|(p, _)| *p).collect();
            let mut lines = Vec::new();
            for _ in 0..count {
                let product = products.remove(random.next(products.len() as u64) as usize);
                lines.push(json!({"itemId": product, "quantity": 1 + random.next(3)}));
            }
            Value::Array(lines)
        })
        .collect()
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn two_hundred_concurrent_orders_never_oversell() {
    race(&[], &["OutOfStock"]).await;
}

/// The same race with Lambda's own behaviour at the concurrency limit (ReservedConcurrentExecutions 10):
/// invocations over it are throttled, the workflow retries them, and orders may fail on throttling; the
/// invariants must hold all the same.
#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn two_hundred_concurrent_orders_under_lambda_throttling_keep_the_invariants() {
    race(
        &["--on-concurrency-limit=throttle".to_string()],
        &["OutOfStock", "Lambda.TooManyRequestsException"],
    )
    .await;
}

async fn race(flags: &[String], allowed_errors: &[&str]) {
    let emulator = std::sync::Arc::new(Emulator::start("templates/template.yaml", flags));
    for (product, stock) in PRODUCTS {
        emulator.create_item(product, *stock as u64).await;
    }

    let requests = orders().into_iter().map(|lines| {
        let emulator = emulator.clone();
        tokio::spawn(async move {
            let (status, accepted) = emulator.post_json("create-order", &lines).await;
            assert_eq!(status, 202, "{accepted}");
            (
                accepted["orderId"].as_str().expect("orderId").to_string(),
                accepted["executionArn"].as_str().expect("arn").to_string(),
                lines,
            )
        })
    });
    let accepted: Vec<(String, String, Value)> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.expect("request task"))
        .collect();

    let mut outcomes = HashMap::new();
    for (order_id, arn, lines) in &accepted {
        let execution = emulator.wait_execution(arn).await;
        let status = execution["status"].as_str().expect("status").to_string();
        if status == "FAILED" {
            // Only the expected outcomes of a race: never a runtime or timeout error.
            let error = execution["error"].as_str().unwrap_or("");
            assert!(allowed_errors.contains(&error), "{order_id}: {execution}");
        } else {
            assert_eq!(status, "SUCCEEDED", "{order_id}: {execution}");
        }
        outcomes.insert(order_id.clone(), (status, lines.clone()));
    }

    let data = Snapshot::take(&emulator).await;
    let mut sold: HashMap<String, i64> = HashMap::new();
    let mut confirmed_lines = 0;
    for (order_id, (status, lines)) in &outcomes {
        let record = data.order(order_id);
        let reservations = data.reservations(order_id);
        if status == "SUCCEEDED" {
            let record = record.expect("a succeeded order is recorded");
            assert_eq!(record["status"], "CONFIRMED", "{order_id}");
            assert_eq!(&record["lines"], lines, "{order_id}");
            // Every line decremented exactly once: one marker per line, with its item and quantity.
            let expected: Vec<(i64, String, i64)> = lines
                .as_array()
                .expect("lines")
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    (
                        i as i64,
                        l["itemId"].as_str().expect("id").to_string(),
                        l["quantity"].as_i64().expect("q"),
                    )
                })
                .collect();
            assert_eq!(reservations, expected, "{order_id}");
            for line in lines.as_array().expect("lines") {
                *sold
                    .entry(line["itemId"].as_str().expect("id").to_string())
                    .or_default() += line["quantity"].as_i64().expect("q");
            }
            confirmed_lines += expected.len();
        } else {
            assert!(
                reservations.is_empty(),
                "{order_id}: a failed order keeps no reservation"
            );
            assert!(
                record.is_none_or(|r| r["status"] == "CANCELLED"),
                "{order_id}: {record:?}"
            );
        }
    }
    assert_eq!(
        data.all_reservations(),
        confirmed_lines,
        "no stray reservation"
    );
    let confirmed = outcomes.values().filter(|(s, _)| s == "SUCCEEDED").count();
    assert!(
        confirmed > 0 && confirmed < ORDERS,
        "the race had winners and losers: {confirmed} confirmed"
    );
    for (product, initial) in PRODUCTS {
        let remaining = data.stock(product).expect("product");
        assert!(remaining >= 0, "{product}: negative stock {remaining}");
        assert_eq!(
            *initial,
            remaining + sold.get(*product).copied().unwrap_or(0),
            "{product}: initial = remaining + confirmed quantities"
        );
    }
    eprintln!(
        "{confirmed} of {ORDERS} orders confirmed; remaining stock: {:?}",
        PRODUCTS
            .iter()
            .map(|(p, _)| (p, data.stock(p)))
            .collect::<Vec<_>>()
    );
}
