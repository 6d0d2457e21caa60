//! The shop's order workflow, read from `templates/template.yaml` (the synth output) and run with
//! in-test functions that implement `shop-contract` over an in-memory stock table. Payloads are read
//! with the contract's types (which refuse unknown fields), so a drift between the state machine and
//! the contract fails here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sfn::{
    ExecutionOptions, ExecutionResult, ExecutionStatus, Executor, FunctionCall, StateMachine,
    StatesError, TaskHandler, VirtualClock,
};
use shop_contract::{
    Cancellation, ConfirmRequest, LineRequest, OrderLine, OrderOutcome, OrderRequest, OrderStatus,
    StockCheck, StockReservation, errors, names,
};

#[derive(Default)]
struct Store {
    stock: HashMap<String, u64>,
    /// (orderId, lineIndex) → quantity decremented for that line
    markers: HashMap<(String, u32), (String, u64)>,
    orders: HashMap<String, (OrderStatus, Vec<OrderLine>)>,
}

/// Faults the tests inject.
#[derive(Default, Clone)]
struct Faults {
    /// Before reserving this item, wait (virtual) seconds then let a competing order take all its stock.
    sold_out_during_reservation: Option<String>,
    /// The first reservation of this item is applied but its answer is lost (Lambda.ServiceException).
    lost_answer_once: Option<String>,
    /// The first reservation of this item fails before applying anything, as when DynamoDB throttles
    /// past the SDK's retries (StorageError).
    storage_error_once: Option<String>,
}

struct Shop {
    store: Mutex<Store>,
    faults: Faults,
    lost_answer_used: Mutex<bool>,
    storage_error_used: Mutex<bool>,
    invocations: Mutex<Vec<String>>,
}

fn function_error(error_type: &str, message: impl Into<String>) -> StatesError {
    StatesError::lambda_function_error(error_type, &message.into(), &[])
}

fn parse<T: DeserializeOwned>(payload: &Value) -> Result<T, StatesError> {
    serde_json::from_value(payload.clone()).map_err(|e| {
        function_error(
            errors::INVALID_INPUT,
            format!("payload {payload} breaks the contract: {e}"),
        )
    })
}

fn answer<T: Serialize>(value: T) -> Result<Value, StatesError> {
    serde_json::to_value(value).map_err(|e| StatesError::runtime(e.to_string()))
}

impl Shop {
    fn new(stock: &[(&str, u64)], faults: Faults) -> Arc<Self> {
        let mut store = Store::default();
        for (item, quantity) in stock {
            store.stock.insert(item.to_string(), *quantity);
        }
        Arc::new(Shop {
            store: Mutex::new(store),
            faults,
            lost_answer_used: Mutex::new(false),
            storage_error_used: Mutex::new(false),
            invocations: Mutex::new(Vec::new()),
        })
    }

    fn stock(&self, item: &str) -> u64 {
        self.store
            .lock()
            .unwrap()
            .stock
            .get(item)
            .copied()
            .unwrap_or(0)
    }

    fn order_status(&self, order_id: &str) -> Option<OrderStatus> {
        self.store
            .lock()
            .unwrap()
            .orders
            .get(order_id)
            .map(|(status, _)| *status)
    }

    fn is_item_in_stock(&self, line: LineRequest) -> Result<Value, StatesError> {
        let store = self.store.lock().unwrap();
        let available = *store.stock.get(&line.item_id).ok_or_else(|| {
            function_error(
                errors::ITEM_NOT_FOUND,
                format!("{} does not exist", line.item_id),
            )
        })?;
        if available < line.quantity {
            return Err(function_error(
                errors::OUT_OF_STOCK,
                format!("{}: {available} left", line.item_id),
            ));
        }
        answer(StockCheck {
            item_id: line.item_id,
            requested: line.quantity,
            available,
        })
    }

    /// One "transaction": order not cancelled, marker absent, enough stock.
    fn update_item_stock(&self, line: LineRequest) -> Result<Value, StatesError> {
        let mut store = self.store.lock().unwrap();
        if store
            .orders
            .get(&line.order_id)
            .is_some_and(|(status, _)| *status == OrderStatus::Cancelled)
        {
            return Err(function_error(
                errors::ORDER_CANCELLED,
                format!("order {} is cancelled", line.order_id),
            ));
        }
        let key = (line.order_id.clone(), line.line_index);
        let applied = if store.markers.contains_key(&key) {
            false
        } else {
            let stock = store.stock.get_mut(&line.item_id).ok_or_else(|| {
                function_error(
                    errors::ITEM_NOT_FOUND,
                    format!("{} does not exist", line.item_id),
                )
            })?;
            if *stock < line.quantity {
                return Err(function_error(
                    errors::OUT_OF_STOCK,
                    format!("{}: {stock} left", line.item_id),
                ));
            }
            *stock -= line.quantity;
            store
                .markers
                .insert(key, (line.item_id.clone(), line.quantity));
            true
        };
        answer(StockReservation {
            order_id: line.order_id,
            line_index: line.line_index,
            item_id: line.item_id,
            quantity: line.quantity,
            applied,
        })
    }

    fn create_order(&self, request: OrderRequest) -> Result<Value, StatesError> {
        let mut store = self.store.lock().unwrap();
        match store.orders.get(&request.order_id) {
            None => {
                store.orders.insert(
                    request.order_id.clone(),
                    (OrderStatus::Pending, request.lines),
                );
            }
            Some((OrderStatus::Cancelled, _)) => {
                return Err(function_error(errors::ORDER_CANCELLED, "order cancelled"));
            }
            Some((_, lines)) if *lines != request.lines => {
                return Err(function_error(
                    errors::ORDER_CONFLICT,
                    "same id, other lines",
                ));
            }
            Some(_) => {}
        }
        answer(OrderOutcome {
            order_id: request.order_id,
            status: OrderStatus::Pending,
        })
    }

    fn cancel_order(&self, request: OrderRequest) -> Result<Value, StatesError> {
        let mut store = self.store.lock().unwrap();
        store
            .orders
            .entry(request.order_id.clone())
            .and_modify(|(status, _)| *status = OrderStatus::Cancelled)
            .or_insert((OrderStatus::Cancelled, request.lines.clone()));
        let mut restored_lines = Vec::new();
        for index in 0..request.lines.len() as u32 {
            if let Some((item, quantity)) = store.markers.remove(&(request.order_id.clone(), index))
            {
                *store.stock.entry(item).or_insert(0) += quantity;
                restored_lines.push(index);
            }
        }
        answer(Cancellation {
            order_id: request.order_id,
            status: OrderStatus::Cancelled,
            restored_lines,
        })
    }

    fn confirm_order(&self, request: ConfirmRequest) -> Result<Value, StatesError> {
        let mut store = self.store.lock().unwrap();
        let Some((status, _)) = store.orders.get_mut(&request.order_id) else {
            return Err(function_error(errors::INVALID_INPUT, "no such order"));
        };
        if *status == OrderStatus::Cancelled {
            return Err(function_error(errors::ORDER_CANCELLED, "order cancelled"));
        }
        *status = OrderStatus::Confirmed;
        answer(OrderOutcome {
            order_id: request.order_id,
            status: OrderStatus::Confirmed,
        })
    }
}

impl TaskHandler for Shop {
    fn invoke_function(&self, call: FunctionCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        Box::pin(async move {
            self.invocations
                .lock()
                .unwrap()
                .push(call.function_name.clone());
            let payload = &call.payload;
            match call.function_name.as_str() {
                names::IS_ITEM_IN_STOCK => self.is_item_in_stock(parse(payload)?),
                names::UPDATE_ITEM_STOCK => {
                    let line: LineRequest = parse(payload)?;
                    if self.faults.sold_out_during_reservation.as_deref()
                        == Some(line.item_id.as_str())
                    {
                        // let the other lines land first, then a competing order empties this item
                        call.context.sleep(Duration::from_secs(5)).await;
                        self.store
                            .lock()
                            .unwrap()
                            .stock
                            .insert(line.item_id.clone(), 0);
                    }
                    let lose_answer = self.faults.lost_answer_once.as_deref()
                        == Some(line.item_id.as_str())
                        && !std::mem::replace(&mut *self.lost_answer_used.lock().unwrap(), true);
                    let storage_fails = self.faults.storage_error_once.as_deref()
                        == Some(line.item_id.as_str())
                        && !std::mem::replace(&mut *self.storage_error_used.lock().unwrap(), true);
                    if storage_fails {
                        return Err(function_error(
                            errors::STORAGE,
                            "DynamoDB TransactWriteItems failed: ThrottlingException",
                        ));
                    }
                    let outcome = self.update_item_stock(line)?;
                    if lose_answer {
                        return Err(StatesError::new(
                            "Lambda.ServiceException",
                            "the answer was lost",
                        ));
                    }
                    Ok(outcome)
                }
                names::CREATE_ORDER => self.create_order(parse(payload)?),
                names::CANCEL_ORDER => self.cancel_order(parse(payload)?),
                names::CONFIRM_ORDER => self.confirm_order(parse(payload)?),
                other => Err(StatesError::runtime(format!("no function {other}"))),
            }
        })
    }
}

fn order_workflow() -> StateMachine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/template.yaml");
    let text = std::fs::read_to_string(&path)
        .expect("templates/template.yaml exists (cargo run -p synth)");
    let template = sfn::template::parse_document(&text).expect("template parses");
    let (_, definition) = sfn::template::state_machine_definition(&template, Some("OrderWorkflow"))
        .expect("OrderWorkflow is there");
    StateMachine::from_value(definition).expect("the order workflow is a valid definition")
}

async fn place(shop: &Arc<Shop>, order_id: &str, lines: Value) -> ExecutionResult {
    let executor = Executor::new(shop.clone()).with_clock(Arc::new(VirtualClock::new()));
    let options = ExecutionOptions {
        state_machine_name: "OrderWorkflow".into(),
        ..Default::default()
    }
    .named(order_id);
    executor
        .run(&order_workflow(), json!({ "order": lines }), options)
        .await
}

fn entered(result: &ExecutionResult) -> Vec<String> {
    result
        .history
        .iter()
        .filter(|e| e.event_type.ends_with("StateEntered"))
        .filter_map(|e| e.detail_str("name").map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_decrements_every_line_and_confirms() {
    let shop = Shop::new(&[("apple", 5), ("pear", 3)], Faults::default());
    let result = place(
        &shop,
        "o-1",
        json!([{"itemId": "apple", "quantity": 2}, {"itemId": "pear", "quantity": 3}]),
    )
    .await;
    assert_eq!(
        result.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        result.error,
        result.cause
    );
    assert_eq!(
        result.output,
        Some(json!({"orderId": "o-1", "status": "CONFIRMED"}))
    );
    assert_eq!((shop.stock("apple"), shop.stock("pear")), (3, 0));
    assert_eq!(shop.order_status("o-1"), Some(OrderStatus::Confirmed));
    assert!(!entered(&result).contains(&"CancelOrder".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_stock_on_one_line_rejects_the_order_before_anything_is_written() {
    let shop = Shop::new(&[("apple", 5), ("pear", 1)], Faults::default());
    let result = place(
        &shop,
        "o-2",
        json!([{"itemId": "apple", "quantity": 2}, {"itemId": "pear", "quantity": 2}]),
    )
    .await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(result.error.as_deref(), Some(errors::OUT_OF_STOCK));
    let cause: Value = serde_json::from_str(result.cause.as_deref().unwrap_or(""))
        .expect("cause is the error object");
    assert_eq!(cause["errorType"], errors::OUT_OF_STOCK);
    assert_eq!((shop.stock("apple"), shop.stock("pear")), (5, 1));
    assert_eq!(shop.order_status("o-2"), None);
    assert!(
        !shop
            .invocations
            .lock()
            .unwrap()
            .iter()
            .any(|f| f == names::UPDATE_ITEM_STOCK)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_failing_after_others_were_decremented_is_compensated() {
    let faults = Faults {
        sold_out_during_reservation: Some("pear".into()),
        ..Faults::default()
    };
    let shop = Shop::new(&[("apple", 5), ("pear", 3), ("fig", 4)], faults);
    let lines = json!([
        {"itemId": "apple", "quantity": 2},
        {"itemId": "pear", "quantity": 1},
        {"itemId": "fig", "quantity": 4}
    ]);
    let result = place(&shop, "o-3", lines).await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(
        result.error.as_deref(),
        Some(errors::OUT_OF_STOCK),
        "{:?}",
        result.cause
    );
    let states = entered(&result);
    assert!(states.contains(&"CancelOrder".to_string()), "{states:?}");
    assert!(states.contains(&"OrderFailed".to_string()), "{states:?}");
    // apple and fig were decremented before pear failed; the compensation gave exactly them back
    let restored: Vec<Value> = result
        .history
        .iter()
        .filter(|e| e.event_type == "TaskSucceeded")
        .filter_map(|e| {
            e.detail_str("output")
                .and_then(|o| serde_json::from_str::<Value>(o).ok())
        })
        .filter_map(|o| o["Payload"].get("restoredLines").cloned())
        .collect();
    assert_eq!(restored, vec![json!([0, 2])]);
    assert_eq!((shop.stock("apple"), shop.stock("fig")), (5, 4));
    assert_eq!(shop.order_status("o-3"), Some(OrderStatus::Cancelled));
    assert!(shop.store.lock().unwrap().markers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_lambda_error_is_retried_without_a_double_decrement() {
    let faults = Faults {
        lost_answer_once: Some("apple".into()),
        ..Faults::default()
    };
    let shop = Shop::new(&[("apple", 5)], faults);
    let result = place(&shop, "o-4", json!([{"itemId": "apple", "quantity": 2}])).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        result.error,
        result.cause
    );
    let reservations = shop
        .invocations
        .lock()
        .unwrap()
        .iter()
        .filter(|f| *f == names::UPDATE_ITEM_STOCK)
        .count();
    assert_eq!(reservations, 2, "the lost answer was retried once");
    assert_eq!(
        shop.stock("apple"),
        3,
        "the retry found the marker and applied nothing"
    );
    let failed = result
        .history
        .iter()
        .filter(|e| e.event_type == "TaskFailed")
        .count();
    assert_eq!(failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_error_is_retried_and_the_order_goes_through() {
    let faults = Faults {
        storage_error_once: Some("apple".into()),
        ..Faults::default()
    };
    let shop = Shop::new(&[("apple", 5), ("pear", 5)], faults);
    let result = place(
        &shop,
        "o-storage",
        json!([{"itemId": "apple", "quantity": 2}, {"itemId": "pear", "quantity": 1}]),
    )
    .await;
    assert_eq!(
        result.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        result.error,
        result.cause
    );
    assert_eq!(shop.stock("apple"), 3);
    assert_eq!(shop.stock("pear"), 4);
    assert_eq!(shop.order_status("o-storage"), Some(OrderStatus::Confirmed));
    let retried: Vec<_> = result
        .history
        .iter()
        .filter(|e| e.event_type == "TaskFailed")
        .filter_map(|e| e.detail_str("error"))
        .collect();
    assert_eq!(retried, [errors::STORAGE]);
    assert!(!entered(&result).iter().any(|s| s == "CancelOrder"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orders_racing_for_the_last_unit_do_not_both_succeed() {
    let shop = Shop::new(&[("apple", 1)], Faults::default());
    let line = json!([{"itemId": "apple", "quantity": 1}]);
    let (first, second) = tokio::join!(
        place(&shop, "o-a", line.clone()),
        place(&shop, "o-b", line.clone())
    );
    let succeeded = [&first, &second]
        .iter()
        .filter(|r| r.status == ExecutionStatus::Succeeded)
        .count();
    assert_eq!(succeeded, 1, "{:?} / {:?}", first.error, second.error);
    assert_eq!(shop.stock("apple"), 0);
    let confirmed = ["o-a", "o-b"]
        .iter()
        .filter(|id| shop.order_status(id) == Some(OrderStatus::Confirmed))
        .count();
    assert_eq!(confirmed, 1);
}
