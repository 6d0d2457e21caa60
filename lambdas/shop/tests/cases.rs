//! Every handler's behaviour, from the case tables under `tests/cases/` (one fresh engine per case).

mod common;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::encodings::Body;
use common::{all_stock, invoke, read_json, seed_stock};
use serde_json::Value;
use shop::handlers;
use shop::testing::Engine;
use std::collections::BTreeMap;

fn stock_map(value: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(value.clone()).expect("a map of item id to stock")
}

/// Runs one task case; returns the problems found (empty when it passed).
async fn run_task_case(case: &Value) -> Vec<String> {
    let engine = Engine::start().await;
    let shop = &engine.shop;
    seed_stock(shop, &stock_map(&case["stock"])).await;
    for given in case["given"].as_array().expect("given is a list") {
        let function = given["function"].as_str().expect("function name");
        // Preconditions may fail on purpose; what matters is the state they leave.
        let _ = invoke(shop, function, given["payload"].clone()).await;
    }
    let function = case["function"].as_str().expect("function name");
    let result = invoke(shop, function, case["payload"].clone()).await;
    let expect = &case["expect"];
    let mut problems = Vec::new();
    match (&result, expect.get("errorType")) {
        (Err(error), Some(expected)) => {
            if error.error_type != expected.as_str().unwrap_or_default() {
                problems.push(format!(
                    "errorType {} ({}), expected {expected}",
                    error.error_type, error.error_message
                ));
            }
            if error.error_message.is_empty() {
                problems.push("empty errorMessage".to_string());
            }
        }
        (Ok(output), None) => {
            if output != &expect["output"] {
                problems.push(format!("output {output}, expected {}", expect["output"]));
            }
        }
        (other, _) => problems.push(format!("got {other:?}, expected {expect}")),
    }
    if let Some(expected) = expect.get("stockAfter") {
        let stock = all_stock(&engine).await;
        for (item_id, quantity) in stock_map(expected) {
            if stock.get(&item_id) != Some(&(quantity as i64)) {
                problems.push(format!(
                    "stock of {item_id} is {:?}, expected {quantity}",
                    stock.get(&item_id)
                ));
            }
        }
    }
    if let Some(expected) = expect.get("ordersAfter").and_then(Value::as_object) {
        for (order_id, status) in expected {
            let found = shop
                .order(order_id)
                .await
                .expect("read order")
                .map(|o| o.status.as_str());
            if found != status.as_str() {
                problems.push(format!("order {order_id} is {found:?}, expected {status}"));
            }
        }
    }
    if let Some(expected) = expect.get("markersAfter").and_then(Value::as_object) {
        for (order_id, lines) in expected {
            let mut found: Vec<u32> = shop
                .reservations(order_id)
                .await
                .expect("read markers")
                .iter()
                .map(|marker| marker.line_index)
                .collect();
            found.sort_unstable();
            let expected: Vec<u32> = serde_json::from_value(lines.clone()).expect("line indexes");
            if found != expected {
                problems.push(format!(
                    "markers of {order_id} are {found:?}, expected {expected:?}"
                ));
            }
        }
    }
    problems
}

async fn run_task_table(file: &str) {
    let cases = read_json(&format!("cases/tasks/{file}.json"));
    let cases = cases.as_array().expect("a list of cases");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let problems = run_task_case(case).await;
        if !problems.is_empty() {
            failures.push(format!(
                "{file} / {}: {}",
                case["name"],
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_item_stock_cases() {
    run_task_table("update_item_stock").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_item_in_stock_cases() {
    run_task_table("is_item_in_stock").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_order_cases() {
    run_task_table("create_order").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_order_cases() {
    run_task_table("confirm_order").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_order_cases() {
    run_task_table("cancel_order").await;
}

/// The real API Gateway event with the case's body put in.
fn event_with_body(body: &Value, base64: bool) -> ApiGatewayProxyRequest {
    let mut event = read_json("fixtures/apigw/create_store_item.json");
    event["body"] = body.clone();
    event["isBase64Encoded"] = Value::Bool(base64);
    serde_json::from_value(event).expect("a proxy event")
}

fn response_json(response: &aws_lambda_events::apigw::ApiGatewayProxyResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("the response body is JSON"),
        other => panic!("expected a text body, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_store_item_cases() {
    let directory = common::data_path("cases/create_store_item");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .expect("case directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the case table is there");
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("case JSON");
        let engine = Engine::start().await;
        let seed: BTreeMap<String, u64> = case["seed"]
            .as_array()
            .expect("seed list")
            .iter()
            .map(|item| {
                (
                    item["itemId"].as_str().expect("itemId").to_string(),
                    item["stock"].as_u64().expect("stock"),
                )
            })
            .collect();
        seed_stock(&engine.shop, &seed).await;
        let event = event_with_body(
            &case["body"],
            case["isBase64Encoded"].as_bool().unwrap_or(false),
        );
        let response = handlers::create_store_item(&engine.shop, event).await;
        let expect = &case["expect"];
        let mut problems = Vec::new();
        if Some(response.status_code) != expect["status"].as_i64() {
            problems.push(format!(
                "status {}, expected {}",
                response.status_code, expect["status"]
            ));
        }
        if response
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            != Some("application/json")
        {
            problems.push("content-type is not application/json".to_string());
        }
        let body = response_json(&response);
        match expect.get("error") {
            Some(error) => {
                if &body["error"] != error {
                    problems.push(format!(
                        "error {}, expected {error} ({body})",
                        body["error"]
                    ));
                }
                if body["message"].as_str().is_none_or(str::is_empty) {
                    problems.push("no message".to_string());
                }
            }
            None => {
                if body.get("error").is_some() {
                    problems.push(format!("unexpected error body {body}"));
                }
            }
        }
        // What the table holds afterwards: the expected stock, or exactly the seed (nothing written).
        let expected_stock: BTreeMap<String, i64> = match expect.get("stored") {
            Some(stored) => stock_map(stored)
                .into_iter()
                .map(|(k, v)| (k, v as i64))
                .collect(),
            None => seed.iter().map(|(k, v)| (k.clone(), *v as i64)).collect(),
        };
        let stored = all_stock(&engine).await;
        if stored != expected_stock {
            problems.push(format!(
                "table holds {stored:?}, expected {expected_stock:?}"
            ));
        }
        if engine.scan_all().await.len() != expected_stock.len() {
            problems.push("the table holds records other than the products".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name} ({}): {}",
                case["description"],
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Real proxy events, as API Gateway sends them, through the handler; the response, serialized as
/// lambda_runtime does, is what API Gateway expects back (`statusCode`, `headers`, `multiValueHeaders`,
/// `body` as a string, `isBase64Encoded`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_gateway_fixtures_round_trip() {
    let fixtures = [
        (
            "create_store_item.json",
            201,
            serde_json::json!({"message": "Store item created", "itemId": "apple", "stock": 10}),
        ),
        (
            "create_store_item_base64.json",
            201,
            serde_json::json!({"message": "Store item created", "itemId": "pear", "stock": 3}),
        ),
        ("create_store_item_bad_quantity.json", 400, Value::Null),
        ("create_store_item_no_body.json", 400, Value::Null),
    ];
    let engine = Engine::start().await;
    for (file, status, expected_body) in fixtures {
        let raw = read_json(&format!("fixtures/apigw/{file}"));
        let event: ApiGatewayProxyRequest =
            serde_json::from_value(raw.clone()).expect("the fixture is a proxy event");
        assert_eq!(event.http_method, "POST");
        assert_eq!(event.request_context.stage.as_deref(), Some("prod"));
        let response = handlers::create_store_item(&engine.shop, event).await;
        let wire = serde_json::to_value(&response).expect("the response serializes");
        assert_eq!(wire["statusCode"], status, "{file}: {wire}");
        assert_eq!(
            wire["headers"]["content-type"], "application/json",
            "{file}"
        );
        // Only `headers` is set; API Gateway merges `multiValueHeaders` into it when present.
        assert!(
            wire.get("multiValueHeaders")
                .is_none_or(|m| m.is_null() || m.as_object().is_some_and(|m| m.is_empty())),
            "{file}: {wire}"
        );
        assert_eq!(wire["isBase64Encoded"], false, "{file}");
        let body: Value = serde_json::from_str(wire["body"].as_str().expect("body is a string"))
            .expect("body is JSON");
        if expected_body.is_null() {
            assert!(
                body["error"].is_string() && body["message"].is_string(),
                "{file}: {body}"
            );
        } else {
            assert_eq!(body, expected_body, "{file}");
        }
    }
    assert_eq!(
        all_stock(&engine).await,
        BTreeMap::from([("apple".to_string(), 10), ("pear".to_string(), 3)])
    );
}
