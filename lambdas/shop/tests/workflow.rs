//! Concurrency, retries and compensation against the real engine: the contract's invariants, exactly.

mod common;

use common::{
    Ending, Faults, all_markers, all_stock, assert_invariants, invoke, run_workflow, seed_stock,
};
use futures::future::join_all;
use serde_json::{Value, json};
use shop::testing::Engine;
use shop_contract::{OrderLine, names};
use std::collections::{BTreeMap, BTreeSet};

fn line(order_id: &str, index: u32, item_id: &str, quantity: u64) -> Value {
    json!({"orderId": order_id, "lineIndex": index, "itemId": item_id, "quantity": quantity})
}

fn stock(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// 200 decrements of `quantity` at once, each for its own order, on `initial` units: exactly
/// `min(initial, 200 * quantity) / quantity` succeed, every other one is OutOfStock, stock never negative.
async fn concurrent_decrements(initial: u64, quantity: u64) {
    let engine = Engine::start().await;
    seed_stock(&engine.shop, &stock(&[("apple", initial)])).await;
    let results = join_all((0..200).map(|n| {
        let shop = engine.shop.clone();
        tokio::spawn(async move {
            invoke(
                &shop,
                names::UPDATE_ITEM_STOCK,
                line(&format!("order-{n}"), 0, "apple", quantity),
            )
            .await
        })
    }))
    .await;
    let mut succeeded = 0;
    for result in results {
        match result.expect("task ran") {
            Ok(output) => {
                assert_eq!(output["applied"], true);
                succeeded += 1;
            }
            Err(error) => assert_eq!(error.error_type, "OutOfStock", "{error:?}"),
        }
    }
    let expected = initial.min(200 * quantity) / quantity;
    assert_eq!(succeeded, expected, "successful decrements");
    let remaining = all_stock(&engine).await["apple"];
    assert_eq!(remaining, (initial - expected * quantity) as i64);
    let markers = all_markers(&engine).await;
    assert_eq!(
        markers.len() as u64,
        expected,
        "one marker per successful decrement"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_decrements_of_one_on_scarce_stock() {
    concurrent_decrements(150, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_decrements_of_three_on_scarce_stock() {
    concurrent_decrements(100, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_decrement_retried_concurrently_is_applied_once() {
    let engine = Engine::start().await;
    seed_stock(&engine.shop, &stock(&[("apple", 10)])).await;
    let attempts = join_all((0..20).map(|_| {
        let shop = engine.shop.clone();
        tokio::spawn(async move {
            invoke(&shop, names::UPDATE_ITEM_STOCK, line("o-1", 0, "apple", 4)).await
        })
    }))
    .await;
    let applied: Vec<bool> = attempts
        .into_iter()
        .map(|attempt| {
            attempt.expect("task ran").expect("every attempt succeeds")["applied"] == true
        })
        .collect();
    assert_eq!(
        applied.iter().filter(|a| **a).count(),
        1,
        "exactly one attempt applied"
    );
    assert_eq!(all_stock(&engine).await["apple"], 6);
    // and once more, sequentially, after the others
    let again = invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 0, "apple", 4),
    )
    .await
    .expect("retry");
    assert_eq!(again["applied"], false);
    assert_eq!(all_stock(&engine).await["apple"], 6);
}

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_multi_line_orders_on_scarce_stock_keep_the_invariants() {
    let engine = Engine::start().await;
    let items = ["apple", "pear", "plum", "kiwi", "fig"];
    let initial = stock(&[
        ("apple", 80),
        ("pear", 60),
        ("plum", 30),
        ("kiwi", 90),
        ("fig", 20),
    ]);
    seed_stock(&engine.shop, &initial).await;

    let mut random = Lcg(0x5eed);
    let orders: Vec<(String, Vec<OrderLine>, Faults)> = (0..100)
        .map(|n| {
            let count = 1 + random.next(4) as usize;
            let mut chosen = BTreeSet::new();
            while chosen.len() < count {
                chosen.insert(items[random.next(items.len() as u64) as usize]);
            }
            let lines = chosen
                .into_iter()
                .map(|item_id| OrderLine {
                    item_id: item_id.to_string(),
                    quantity: 1 + random.next(5),
                })
                .collect();
            let faults = Faults {
                retry_reservations: n % 7 == 0,
                fail_while_reserving: n % 10 == 3,
            };
            (format!("exec-{n:03}"), lines, faults)
        })
        .collect();

    let endings = join_all(orders.iter().map(|(order_id, lines, faults)| {
        let shop = engine.shop.clone();
        let (order_id, lines, faults) = (order_id.clone(), lines.clone(), *faults);
        tokio::spawn(async move { run_workflow(&shop, &order_id, &lines, faults).await })
    }))
    .await;
    let endings: Vec<Ending> = endings
        .into_iter()
        .map(|e| e.expect("workflow task ran"))
        .collect();

    assert_invariants(&engine, &initial).await;
    let confirmed = endings.iter().filter(|e| **e == Ending::Confirmed).count();
    let cancelled = endings
        .iter()
        .filter(|e| matches!(e, Ending::Cancelled(_)))
        .count();
    let cancelled_by_stock = endings
        .iter()
        .filter(|e| **e == Ending::Cancelled("OutOfStock".into()))
        .count();
    // The scenario really is scarce: some orders are confirmed, some lose the race after the check.
    assert!(confirmed > 0, "{endings:?}");
    assert!(
        cancelled >= 10,
        "the injected failures are cancelled: {endings:?}"
    );
    assert!(
        cancelled_by_stock
            + endings
                .iter()
                .filter(|e| matches!(e, Ending::Rejected(_)))
                .count()
            > 0,
        "stock ran out for someone: {endings:?}"
    );
    eprintln!(
        "confirmed {confirmed}, cancelled {cancelled} ({cancelled_by_stock} out of stock after the check), rejected {}",
        100 - confirmed - cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compensation_after_a_partial_failure_restores_exactly_what_was_applied() {
    let engine = Engine::start().await;
    let initial = stock(&[("apple", 10), ("pear", 10), ("plum", 1)]);
    seed_stock(&engine.shop, &initial).await;
    // The third line asks for more than the stock; CheckStock is skipped to reproduce "the stock changed
    // after CheckStock", so the failure happens inside PlaceOrder, after two lines were applied.
    let order = json!({"orderId": "o-1", "lines": [
        {"itemId": "apple", "quantity": 3}, {"itemId": "pear", "quantity": 2}, {"itemId": "plum", "quantity": 5}]});
    invoke(&engine.shop, names::CREATE_ORDER, order.clone())
        .await
        .expect("created");
    invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 0, "apple", 3),
    )
    .await
    .expect("line 0");
    invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 1, "pear", 2),
    )
    .await
    .expect("line 1");
    let failed = invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 2, "plum", 5),
    )
    .await;
    assert_eq!(
        failed.expect_err("not enough plums").error_type,
        "OutOfStock"
    );
    assert_eq!(all_stock(&engine).await["apple"], 7);

    let cancelled = invoke(&engine.shop, names::CANCEL_ORDER, order.clone())
        .await
        .expect("cancelled");
    assert_eq!(
        cancelled,
        json!({"orderId": "o-1", "status": "CANCELLED", "restoredLines": [0, 1]})
    );
    assert_eq!(
        all_stock(&engine).await,
        initial
            .iter()
            .map(|(k, v)| (k.clone(), *v as i64))
            .collect()
    );
    assert!(all_markers(&engine).await.is_empty());

    // A retry of the compensation restores nothing more, and the order cannot come back.
    let again = invoke(&engine.shop, names::CANCEL_ORDER, order.clone())
        .await
        .expect("cancel retried");
    assert_eq!(again["restoredLines"], json!([]));
    assert_eq!(all_stock(&engine).await["apple"], 10);
    let confirm = invoke(
        &engine.shop,
        names::CONFIRM_ORDER,
        json!({"orderId": "o-1"}),
    )
    .await;
    assert_eq!(confirm.expect_err("cancelled").error_type, "OrderCancelled");
    assert_invariants(&engine, &initial).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decrement_arriving_after_the_compensation_is_refused_by_the_fence() {
    let engine = Engine::start().await;
    let initial = stock(&[("apple", 10), ("pear", 10)]);
    seed_stock(&engine.shop, &initial).await;
    let order = json!({"orderId": "o-1", "lines": [{"itemId": "apple", "quantity": 3}, {"itemId": "pear", "quantity": 2}]});
    // Line 0 landed before the branch failed; CreateOrder never ran; CancelOrder runs first...
    invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 0, "apple", 3),
    )
    .await
    .expect("line 0");
    let cancelled = invoke(&engine.shop, names::CANCEL_ORDER, order.clone())
        .await
        .expect("cancelled");
    assert_eq!(cancelled["restoredLines"], json!([0]));
    // ...then the in-flight invocations of line 1 and of CreateOrder finally run.
    let late = invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 1, "pear", 2),
    )
    .await;
    assert_eq!(late.expect_err("fenced").error_type, "OrderCancelled");
    let late_retry = invoke(
        &engine.shop,
        names::UPDATE_ITEM_STOCK,
        line("o-1", 0, "apple", 3),
    )
    .await;
    assert_eq!(late_retry.expect_err("fenced").error_type, "OrderCancelled");
    let late_create = invoke(&engine.shop, names::CREATE_ORDER, order).await;
    assert_eq!(
        late_create.expect_err("fenced").error_type,
        "OrderCancelled"
    );
    assert_eq!(
        all_stock(&engine).await,
        initial
            .iter()
            .map(|(k, v)| (k.clone(), *v as i64))
            .collect()
    );
    assert!(all_markers(&engine).await.is_empty());
    assert_invariants(&engine, &initial).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_confirm_and_cancel_are_idempotent_under_concurrent_retries() {
    let engine = Engine::start().await;
    let initial = stock(&[("apple", 10), ("pear", 10)]);
    seed_stock(&engine.shop, &initial).await;
    let shop = &engine.shop;
    for (order_id, confirm) in [("o-confirm", true), ("o-cancel", false)] {
        let order = json!({"orderId": order_id, "lines": [{"itemId": "apple", "quantity": 2}, {"itemId": "pear", "quantity": 1}]});
        let created =
            join_all((0..10).map(|_| invoke(shop, names::CREATE_ORDER, order.clone()))).await;
        for outcome in created {
            assert_eq!(
                outcome.expect("create retried"),
                json!({"orderId": order_id, "status": "PENDING"})
            );
        }
        invoke(
            shop,
            names::UPDATE_ITEM_STOCK,
            line(order_id, 0, "apple", 2),
        )
        .await
        .expect("line 0");
        invoke(shop, names::UPDATE_ITEM_STOCK, line(order_id, 1, "pear", 1))
            .await
            .expect("line 1");
        if confirm {
            let confirmed = join_all(
                (0..10).map(|_| invoke(shop, names::CONFIRM_ORDER, json!({"orderId": order_id}))),
            )
            .await;
            for outcome in confirmed {
                assert_eq!(
                    outcome.expect("confirm retried"),
                    json!({"orderId": order_id, "status": "CONFIRMED"})
                );
            }
            let recreated = invoke(shop, names::CREATE_ORDER, order)
                .await
                .expect("create after confirm");
            assert_eq!(recreated["status"], "CONFIRMED");
        } else {
            let cancelled =
                join_all((0..10).map(|_| invoke(shop, names::CANCEL_ORDER, order.clone()))).await;
            let mut restored = Vec::new();
            for outcome in cancelled {
                let outcome = outcome.expect("cancel retried");
                assert_eq!(outcome["status"], "CANCELLED");
                restored.extend(
                    outcome["restoredLines"]
                        .as_array()
                        .expect("list")
                        .iter()
                        .cloned(),
                );
            }
            restored.sort_by_key(|v| v.as_u64());
            assert_eq!(
                restored,
                vec![json!(0), json!(1)],
                "each line restored by exactly one attempt"
            );
        }
    }
    assert_eq!(
        all_stock(&engine).await,
        BTreeMap::from([("apple".to_string(), 8), ("pear".to_string(), 9)])
    );
    assert_invariants(&engine, &initial).await;
}
