//! End to end: the real `local` binary serving templates/template.yaml (and the Express variant), driven
//! over HTTP only, with the data read back from its DynamoDB endpoint.
//!
//! Needs the function binaries: `cargo build -p create-store-item -p is-item-in-stock -p update-item-stock
//! -p create-order -p confirm-order -p cancel-order` (scripts/e2e.sh builds them and runs these tests).

mod support;

use serde_json::{Value, json};
use support::{Emulator, Snapshot};

/// Places an order through the API (Standard workflow: 202) and waits for its execution to end.
async fn order(emulator: &Emulator, lines: Value) -> (String, Value) {
    let (status, accepted) = emulator.post_json("create-order", &lines).await;
    assert_eq!(status, 202, "{accepted}");
    let order_id = accepted["orderId"].as_str().expect("orderId").to_string();
    let arn = accepted["executionArn"].as_str().expect("executionArn");
    assert!(
        arn.ends_with(&order_id),
        "the execution is named after the order: {arn}"
    );
    (order_id, emulator.wait_execution(arn).await)
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn the_tutorial_scenario_until_out_of_stock() {
    let emulator = Emulator::start("templates/template.yaml", &[]);
    emulator.create_item("apple", 3).await;
    emulator.create_item("pear", 2).await;

    let (first, execution) = order(
        &emulator,
        json!([{"itemId": "apple", "quantity": 1}, {"itemId": "pear", "quantity": 1}]),
    )
    .await;
    assert_eq!(execution["status"], "SUCCEEDED", "{execution}");
    let output: Value =
        serde_json::from_str(execution["output"].as_str().expect("output")).expect("JSON output");
    assert_eq!(output, json!({"orderId": first, "status": "CONFIRMED"}));
    let data = Snapshot::take(&emulator).await;
    assert_eq!(data.stock("apple"), Some(2));
    assert_eq!(data.stock("pear"), Some(1));
    let recorded = data.order(&first).expect("the order is recorded");
    assert_eq!(recorded["status"], "CONFIRMED");
    assert_eq!(
        recorded["lines"],
        json!([{"itemId": "apple", "quantity": 1}, {"itemId": "pear", "quantity": 1}])
    );

    let (_, second) = order(
        &emulator,
        json!([{"itemId": "apple", "quantity": 1}, {"itemId": "pear", "quantity": 1}]),
    )
    .await;
    assert_eq!(second["status"], "SUCCEEDED", "{second}");
    let before = Snapshot::take(&emulator).await;
    assert_eq!(before.stock("pear"), Some(0));

    // Out of pears: the execution fails with the contract's error name and leaves no trace.
    let (failed_id, third) = order(
        &emulator,
        json!([{"itemId": "apple", "quantity": 1}, {"itemId": "pear", "quantity": 1}]),
    )
    .await;
    assert_eq!(third["status"], "FAILED", "{third}");
    assert_eq!(third["error"], "OutOfStock");
    assert!(
        third["cause"].as_str().unwrap_or("").contains("pear"),
        "{third}"
    );
    let after = Snapshot::take(&emulator).await;
    assert_eq!(after.stock("apple"), Some(1));
    assert_eq!(after.stock("pear"), Some(0));
    assert!(
        after.order(&failed_id).is_none(),
        "a rejected order leaves no record"
    );
    assert!(after.reservations(&failed_id).is_empty());
    assert_eq!(
        after.records.len(),
        before.records.len(),
        "nothing else was written"
    );

    // The execution's history is there too, GetExecutionHistory style.
    let arn = third["executionArn"].as_str().expect("arn");
    let history = emulator
        .states_call("GetExecutionHistory", &json!({"executionArn": arn}))
        .await;
    let types: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionFailed"));
    let listed = emulator
        .states_call(
            "ListExecutions",
            &json!({"stateMachineArn": third["stateMachineArn"]}),
        )
        .await;
    assert_eq!(listed["executions"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn bad_input_at_both_routes_is_refused_and_writes_nothing() {
    let emulator = Emulator::start("templates/template.yaml", &[]);
    emulator.create_item("apple", 5).await;
    let before = Snapshot::take(&emulator).await;

    let cases: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/bad-requests.json")).expect("case table");
    let mut cases: Vec<(String, String, String, String, u16, String)> = cases
        .iter()
        .map(|case| {
            let body = match (&case["raw"], &case["body"]) {
                (Value::String(raw), _) => raw.clone(),
                (_, body) => body.to_string(),
            };
            (
                case["name"].as_str().expect("name").to_string(),
                case["route"].as_str().expect("route").to_string(),
                case["contentType"]
                    .as_str()
                    .unwrap_or("application/json")
                    .to_string(),
                body,
                case["status"].as_u64().expect("status") as u16,
                case["expect"].as_str().expect("expect").to_string(),
            )
        })
        .collect();
    // A 1 MB body at each route: well under API Gateway's 10 MB, refused by the model and the function.
    let big = format!(
        r#"[{{"itemId": "{}", "quantity": 1}}]"#,
        "a".repeat(1024 * 1024)
    );
    cases.push((
        "order: 1 MB".into(),
        "create-order".into(),
        "application/json".into(),
        big,
        400,
        "Invalid request body".into(),
    ));
    let big = format!(
        r#"{{"itemId": "{}", "quantity": 1}}"#,
        "a".repeat(1024 * 1024)
    );
    cases.push((
        "item: 1 MB".into(),
        "create-store-item".into(),
        "application/json".into(),
        big,
        400,
        "itemId".into(),
    ));

    for (name, route, content_type, body, status, expect) in cases {
        let (got, text) = emulator.post_raw(&route, &content_type, body).await;
        assert_eq!(got, status, "{name}: {text}");
        assert!(
            text.contains(&expect),
            "{name}: {text:?} should mention {expect:?}"
        );
        serde_json::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("{name}: the error is not JSON: {e}: {text}"));
    }
    let after = Snapshot::take(&emulator).await;
    assert_eq!(after.records, before.records, "bad input wrote something");
    let executions = emulator.states_call("ListStateMachines", &json!({})).await;
    let machine = executions["stateMachines"][0]["stateMachineArn"].clone();
    let listed = emulator
        .states_call("ListExecutions", &json!({"stateMachineArn": machine}))
        .await;
    assert_eq!(
        listed["executions"],
        json!([]),
        "no execution was started for bad input"
    );

    // Unknown routes, methods and stages: what API Gateway answers.
    let token = json!({"message": "Missing Authentication Token"});
    let routing_cases = [
        (reqwest::Method::GET, emulator.url("create-order"), &token),
        (reqwest::Method::POST, emulator.url("no-such-route"), &token),
        (
            reqwest::Method::POST,
            format!("{}/nostage/create-order", emulator.api),
            &token,
        ),
        (
            reqwest::Method::GET,
            format!("{}/", emulator.api),
            &json!({"message": "Forbidden"}),
        ),
    ];
    for (method, url, expected) in routing_cases {
        let response = emulator
            .http
            .request(method.clone(), &url)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), 403, "{method} {url}");
        assert_eq!(
            &response.json::<Value>().await.expect("json"),
            expected,
            "{method} {url}"
        );
    }
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn awkward_ids_travel_intact_and_unknown_ones_fail_the_execution() {
    let emulator = Emulator::start("templates/template.yaml", &[]);
    let ids = [
        "it's",
        r#"say "hi""#,
        r"back\slash",
        "ünïcødé 🍎",
        "$x #set($y = 1)",
        "new\nline",
    ];

    // Unknown products: accepted by the gateway, then the execution fails with ItemNotFound, nothing written.
    for id in ids {
        let (_, execution) = order(
            &emulator,
            json!([{"itemId": format!("missing {id}"), "quantity": 1}]),
        )
        .await;
        assert_eq!(execution["status"], "FAILED", "{id}: {execution}");
        // A control character is refused by the functions (InvalidInput); any other id is just unknown.
        let expected = if id.contains('\n') {
            "InvalidInput"
        } else {
            "ItemNotFound"
        };
        assert_eq!(execution["error"], expected, "{id}: {execution}");
        let input: Value =
            serde_json::from_str(execution["input"].as_str().expect("input")).expect("input JSON");
        assert_eq!(
            input,
            json!({"order": [{"itemId": format!("missing {id}"), "quantity": 1}]}),
            "the VTL template kept the id"
        );
    }
    assert!(Snapshot::take(&emulator).await.records.is_empty());

    // The same ids as real products: created, ordered, stored exactly.
    for id in ids {
        let (status, body) = emulator
            .post_json("create-store-item", &json!({"itemId": id, "quantity": 2}))
            .await;
        if id.contains('\n') {
            assert_eq!(status, 400, "control characters are refused: {body}");
            continue;
        }
        assert_eq!(status, 201, "{id}: {body}");
        let (order_id, execution) = order(&emulator, json!([{"itemId": id, "quantity": 2}])).await;
        assert_eq!(execution["status"], "SUCCEEDED", "{id}: {execution}");
        let data = Snapshot::take(&emulator).await;
        assert_eq!(data.stock(id), Some(0), "{id}");
        assert_eq!(
            data.order(&order_id).expect("order")["lines"],
            json!([{"itemId": id, "quantity": 2}])
        );
    }
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn a_function_failing_mid_order_is_compensated() {
    let target = support::target_dir();
    let wrapper = target.join("examples/poisoned-function");
    assert!(
        wrapper.is_file(),
        "{} is missing: run `cargo build -p local --examples` (cargo test -p local builds it)",
        wrapper.display()
    );
    let env_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        env_file.path(),
        json!({"UpdateItemStockFunction": {
            "WRAPPED_BINARY": target.join("update-item-stock").display().to_string(),
            "POISONED_ITEM_PREFIX": "poisoned-",
        }})
        .to_string(),
    )
    .expect("env file");
    let emulator = Emulator::start(
        "templates/template.yaml",
        &[
            format!(
                "--function-binary=UpdateItemStockFunction={}",
                wrapper.display()
            ),
            format!("--env-vars={}", env_file.path().display()),
        ],
    );
    emulator.create_item("apple", 10).await;
    emulator.create_item("pear", 10).await;
    emulator.create_item("poisoned-plum", 10).await;
    let before = Snapshot::take(&emulator).await;

    // The good lines come first (lines reserve concurrently, so some are applied when the plum fails).
    let (order_id, execution) = order(
        &emulator,
        json!([{"itemId": "apple", "quantity": 3}, {"itemId": "pear", "quantity": 2}, {"itemId": "poisoned-plum", "quantity": 1}]),
    )
    .await;
    assert_eq!(execution["status"], "FAILED", "{execution}");
    assert_eq!(
        execution["error"], "InjectedFailure",
        "the original error is reported: {execution}"
    );
    let history = emulator
        .states_call(
            "GetExecutionHistory",
            &json!({"executionArn": execution["executionArn"]}),
        )
        .await;
    let entered: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "TaskStateEntered")
        .filter_map(|e| e["stateEnteredEventDetails"]["name"].as_str())
        .collect();
    assert!(
        entered.contains(&"CancelOrder"),
        "the compensation ran: {entered:?}"
    );

    let after = Snapshot::take(&emulator).await;
    for item in ["apple", "pear", "poisoned-plum"] {
        assert_eq!(
            after.stock(item),
            before.stock(item),
            "{item} is back to its stock"
        );
    }
    assert!(
        after.reservations(&order_id).is_empty(),
        "every reservation was given back"
    );
    let status = after.order(&order_id).map(|o| o["status"].clone());
    assert!(
        status.is_none() || status == Some(json!("CANCELLED")),
        "the order is not confirmed: {status:?}"
    );
    assert!(after.orders().all(|o| o["status"] != "CONFIRMED"));

    // The same emulator still serves healthy orders.
    let (_, healthy) = order(&emulator, json!([{"itemId": "apple", "quantity": 1}])).await;
    assert_eq!(healthy["status"], "SUCCEEDED", "{healthy}");
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn the_express_variant_answers_the_outcome_synchronously() {
    let emulator = Emulator::start("templates/template-express.yaml", &[]);
    emulator.create_item("apple", 1).await;

    let (status, body) = emulator
        .post_json("create-order", &json!([{"itemId": "apple", "quantity": 1}]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "CONFIRMED");
    let order_id = body["orderId"].as_str().expect("orderId").to_string();
    assert_eq!(
        Snapshot::take(&emulator)
            .await
            .order(&order_id)
            .expect("order")["status"],
        "CONFIRMED"
    );

    let (status, body) = emulator
        .post_json("create-order", &json!([{"itemId": "apple", "quantity": 1}]))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "OutOfStock");
    assert!(
        body["message"].as_str().unwrap_or("").contains("apple"),
        "{body}"
    );

    let (status, body) = emulator
        .post_json(
            "create-order",
            &json!([{"itemId": "it's \"quoted\"", "quantity": 1}]),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "ItemNotFound");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains(r#"it's "quoted""#),
        "{body}"
    );

    let (status, body) = emulator
        .post_json("create-order", &json!([{"itemId": "apple", "quantity": 0}]))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(Snapshot::take(&emulator).await.stock("apple"), Some(0));
}

#[tokio::test]
#[ignore = "end to end: needs the function binaries; run scripts/e2e.sh"]
async fn data_persists_with_data_and_ctrl_c_shuts_down_cleanly() {
    let directory = tempfile::tempdir().expect("temp dir");
    let data = directory.path().join("shop.db");
    let flag = format!("--data={}", data.display());

    let mut first = Emulator::start("templates/template.yaml", std::slice::from_ref(&flag));
    first.create_item("apple", 7).await;
    let (_, execution) = order(&first, json!([{"itemId": "apple", "quantity": 2}])).await;
    assert_eq!(execution["status"], "SUCCEEDED", "{execution}");
    let status = first.interrupt();
    assert!(
        status.success(),
        "Ctrl-C ends the emulator cleanly: {status:?}"
    );

    // A second run on the same file keeps the table and its data.
    let second = Emulator::start("templates/template.yaml", &[flag]);
    let snapshot = Snapshot::take(&second).await;
    assert_eq!(snapshot.stock("apple"), Some(5));
    assert_eq!(
        snapshot
            .orders()
            .filter(|o| o["status"] == "CONFIRMED")
            .count(),
        1
    );
    let (status, body) = second
        .post_json(
            "create-store-item",
            &json!({"itemId": "apple", "quantity": 1}),
        )
        .await;
    assert_eq!(status, 409, "the product exists from the first run: {body}");
}
