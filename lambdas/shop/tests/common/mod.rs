//! Shared by the integration tests: dispatching a function by its contract name, reading the table back,
//! and running the order workflow's function sequence the way the state machine does.
#![allow(dead_code)]

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use shop::Shop;
use shop::handlers;
use shop::model::Reservation;
use shop::testing::Engine;
use shop_contract::{OrderLine, OrderStatus, names};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(relative)
}

pub fn read_json(relative: &str) -> Value {
    let path = data_path(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn to_value<T: serde::Serialize>(result: Result<T, shop::ShopError>) -> Result<Value, Diagnostic> {
    match result {
        Ok(output) => Ok(serde_json::to_value(output).expect("output serializes")),
        Err(error) => Err(Diagnostic::from(error)),
    }
}

/// Invokes one Step Functions task function by its contract name, as its `main.rs` does: JSON in, JSON out
/// or the `Diagnostic` lambda_runtime would post.
pub async fn invoke(shop: &Shop, function: &str, payload: Value) -> Result<Value, Diagnostic> {
    match function {
        names::IS_ITEM_IN_STOCK => to_value(handlers::is_item_in_stock(shop, payload).await),
        names::UPDATE_ITEM_STOCK => to_value(handlers::update_item_stock(shop, payload).await),
        names::CREATE_ORDER => to_value(handlers::create_order(shop, payload).await),
        names::CONFIRM_ORDER => to_value(handlers::confirm_order(shop, payload).await),
        names::CANCEL_ORDER => to_value(handlers::cancel_order(shop, payload).await),
        other => panic!("no task function named {other}"),
    }
}

pub async fn seed_stock(shop: &Shop, stock: &BTreeMap<String, u64>) {
    for (item_id, quantity) in stock {
        shop.create_store_item(item_id, *quantity)
            .await
            .expect("seed an item");
    }
}

fn attribute_string(item: &shop::model::Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(value)) => value.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// Stock of every product, read back from the table. Parsed as a signed number so that a negative
/// stock would be seen, not hidden by a parse error.
pub async fn all_stock(engine: &Engine) -> BTreeMap<String, i64> {
    engine
        .scan_all()
        .await
        .into_iter()
        .filter(|item| attribute_string(item, "PK") == "StoreItem")
        .map(|item| {
            let stock = match item.get("stock") {
                Some(AttributeValue::N(n)) => n.parse::<i64>().expect("stock is an integer"),
                other => panic!("stock: {other:?}"),
            };
            (attribute_string(&item, "SK"), stock)
        })
        .collect()
}

/// Every reservation marker in the table, by order id.
pub async fn all_markers(engine: &Engine) -> BTreeMap<String, Vec<Reservation>> {
    let mut markers: BTreeMap<String, Vec<Reservation>> = BTreeMap::new();
    for item in engine.scan_all().await {
        if attribute_string(&item, "PK").starts_with("Reservation#") {
            let marker = Reservation::from_item(&item).expect("marker decodes");
            markers
                .entry(marker.order_id.clone())
                .or_default()
                .push(marker);
        }
    }
    markers
}

/// Every order in the table.
pub async fn all_orders(engine: &Engine) -> BTreeMap<String, shop::model::Order> {
    engine
        .scan_all()
        .await
        .into_iter()
        .filter(|item| attribute_string(item, "PK") == "Order")
        .map(|item| {
            let order = shop::model::Order::from_item(&item).expect("order decodes");
            (order.order_id.clone(), order)
        })
        .collect()
}

/// How an execution of the workflow ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// CheckStock failed: nothing was written.
    Rejected(String),
    Confirmed,
    /// PlaceOrder failed with this error; CancelOrder ran.
    Cancelled(String),
}

/// Knobs that reproduce what happens around a real execution.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Step Functions retries every ReserveStock task once after it succeeded (a lost response).
    pub retry_reservations: bool,
    /// The Parallel fails at once (CreateOrder "fails"), so CancelOrder runs while the ReserveStock
    /// invocations are still in flight, as Lambda lets them finish after the branch was abandoned.
    pub fail_while_reserving: bool,
}

fn line_payload(order_id: &str, index: usize, line: &OrderLine) -> Value {
    json!({"orderId": order_id, "lineIndex": index, "itemId": line.item_id, "quantity": line.quantity})
}

/// Runs the contract's workflow for one order with the real functions: CheckStock (Map), PlaceOrder
/// (Parallel of ReserveStock Map and CreateOrder), CancelOrder on failure, ConfirmOrder.
pub async fn run_workflow(
    shop: &Shop,
    order_id: &str,
    lines: &[OrderLine],
    faults: Faults,
) -> Ending {
    let order = json!({"orderId": order_id, "lines": lines});
    let checks = join_all(lines.iter().enumerate().map(|(index, line)| {
        invoke(
            shop,
            names::IS_ITEM_IN_STOCK,
            line_payload(order_id, index, line),
        )
    }))
    .await;
    if let Some(Err(error)) = checks.into_iter().find(Result::is_err) {
        return Ending::Rejected(error.error_type);
    }

    if faults.fail_while_reserving {
        // Even lines race the compensation; odd lines arrive after it finished (an invocation Lambda
        // was still running when the branch failed). Only the fence stops the late ones.
        let in_flight: Vec<_> = lines
            .iter()
            .enumerate()
            .filter(|(index, _)| index % 2 == 0)
            .map(|(index, line)| {
                let shop = shop.clone();
                let payload = line_payload(order_id, index, line);
                tokio::spawn(async move { invoke(&shop, names::UPDATE_ITEM_STOCK, payload).await })
            })
            .collect();
        invoke(shop, names::CANCEL_ORDER, order.clone())
            .await
            .expect("cancel-order succeeds");
        for (index, line) in lines.iter().enumerate().filter(|(index, _)| index % 2 == 1) {
            let late = invoke(
                shop,
                names::UPDATE_ITEM_STOCK,
                line_payload(order_id, index, line),
            )
            .await;
            let error = late.expect_err("a reservation after the compensation is refused");
            assert_eq!(error.error_type, "OrderCancelled", "{error:?}");
        }
        for reservation in join_all(in_flight).await {
            if let Err(error) = reservation.expect("task ran") {
                assert!(
                    ["OrderCancelled", "OutOfStock", "ItemNotFound"]
                        .contains(&error.error_type.as_str()),
                    "a racing reservation fails with a routed error, got {error:?}"
                );
            }
        }
        return Ending::Cancelled("Injected".to_string());
    }

    let reserve = join_all(lines.iter().enumerate().map(|(index, line)| async move {
        let payload = line_payload(order_id, index, line);
        let first = invoke(shop, names::UPDATE_ITEM_STOCK, payload.clone()).await?;
        if faults.retry_reservations {
            let again = invoke(shop, names::UPDATE_ITEM_STOCK, payload).await?;
            assert_eq!(
                again["applied"],
                json!(false),
                "a retry must not apply again"
            );
        }
        Ok::<Value, Diagnostic>(first)
    }));
    let create = invoke(shop, names::CREATE_ORDER, order.clone());
    let (reserved, created) = futures::join!(reserve, create);
    let failure = reserved
        .into_iter()
        .chain(std::iter::once(created))
        .find_map(Result::err);
    if let Some(error) = failure {
        let cancelled = invoke(shop, names::CANCEL_ORDER, order)
            .await
            .expect("cancel-order succeeds");
        assert_eq!(cancelled["status"], json!("CANCELLED"));
        return Ending::Cancelled(error.error_type);
    }
    let confirmed = invoke(shop, names::CONFIRM_ORDER, json!({"orderId": order_id}))
        .await
        .expect("confirm-order succeeds after every line was reserved");
    assert_eq!(confirmed["status"], json!(OrderStatus::Confirmed.as_str()));
    Ending::Confirmed
}

/// Checks the contract's invariants once every execution has ended, exactly.
pub async fn assert_invariants(engine: &Engine, initial: &BTreeMap<String, u64>) {
    let stock = all_stock(engine).await;
    let orders = all_orders(engine).await;
    let markers = all_markers(engine).await;

    for (item_id, remaining) in &stock {
        assert!(
            *remaining >= 0,
            "stock of {item_id} is negative: {remaining}"
        );
    }
    let mut sold: BTreeMap<String, i64> = BTreeMap::new();
    for order in orders.values() {
        assert_ne!(
            order.status,
            OrderStatus::Pending,
            "{} was left PENDING",
            order.order_id
        );
        if order.status == OrderStatus::Confirmed {
            for line in &order.lines {
                *sold.entry(line.item_id.clone()).or_default() += line.quantity as i64;
            }
            let mut reserved: Vec<u32> = markers
                .get(&order.order_id)
                .map(|found| found.iter().map(|m| m.line_index).collect())
                .unwrap_or_default();
            reserved.sort_unstable();
            let expected: Vec<u32> = (0..order.lines.len() as u32).collect();
            assert_eq!(
                reserved, expected,
                "confirmed {} must have a marker per line",
                order.order_id
            );
            for marker in &markers[&order.order_id] {
                let line = &order.lines[marker.line_index as usize];
                assert_eq!(
                    (&marker.item_id, marker.quantity),
                    (&line.item_id, line.quantity)
                );
            }
        }
    }
    for (order_id, found) in &markers {
        let status = orders.get(order_id).map(|order| order.status);
        assert_eq!(
            status,
            Some(OrderStatus::Confirmed),
            "order {order_id} keeps markers {found:?} but is {status:?}"
        );
    }
    for (item_id, initial_stock) in initial {
        let remaining = stock.get(item_id).copied().unwrap_or(0);
        let confirmed = sold.get(item_id).copied().unwrap_or(0);
        assert_eq!(
            *initial_stock as i64,
            remaining + confirmed,
            "{item_id}: initial {initial_stock} != remaining {remaining} + confirmed {confirmed}"
        );
    }
}
