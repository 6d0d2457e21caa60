//! The Step Functions API of the emulator in-process, over a Standard state machine whose Task is the
//! test-only echo function (a real process): a running execution's history, history pages.

mod echo;

use local::lambda::{ConcurrencyLimitPolicy, LambdaService};
use local::states::StatesService;
use local::template::DeployContext;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a test waits for something that takes milliseconds on an idle machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn services() -> (Arc<StatesService>, Arc<LambdaService>) {
    let stack = echo::fixture_stack("states-stack.yaml", DeployContext::default());
    let settings = echo::lambda_settings(echo::examples_dir(), 2, ConcurrencyLimitPolicy::Queue);
    let lambda = Arc::new(LambdaService::from_stack(&stack, &settings).expect("lambda"));
    let states = Arc::new(StatesService::from_stack(&stack, lambda.clone()).expect("states"));
    (states, lambda)
}

fn machine_arn(states: &StatesService) -> String {
    states.machines().next().expect("one machine").arn.clone()
}

async fn start(states: &Arc<StatesService>, input: Value) -> String {
    let started = states
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine_arn(states), "input": input.to_string()}),
        )
        .await
        .expect("started");
    started["executionArn"]
        .as_str()
        .expect("executionArn")
        .to_string()
}

async fn history(states: &Arc<StatesService>, request: Value) -> Value {
    states
        .call("GetExecutionHistory", request)
        .await
        .expect("history")
}

fn types(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_string())
        .collect()
}

async fn wait_until_ended(states: &Arc<StatesService>, arn: &str) -> Value {
    let since = Instant::now();
    loop {
        let described = states
            .call("DescribeExecution", json!({"executionArn": arn}))
            .await
            .expect("described");
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(since.elapsed() < PATIENCE, "the execution never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_running_execution_has_the_history_of_what_it_did_so_far() {
    let (states, lambda) = services();
    // The function sleeps long enough for the test to look at the execution in the middle of its Task.
    let arn = start(&states, json!({"action": "sleep", "millis": 3000})).await;
    let since = Instant::now();
    let running = loop {
        let page = history(&states, json!({"executionArn": arn})).await;
        if types(&page).iter().any(|t| t == "TaskStarted") {
            break page;
        }
        assert!(since.elapsed() < PATIENCE, "the task never started: {page}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let described = states
        .call("DescribeExecution", json!({"executionArn": arn}))
        .await
        .expect("described");
    assert_eq!(described["status"], "RUNNING");
    assert_eq!(
        types(&running),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
        ]
    );

    let ended = wait_until_ended(&states, &arn).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    let full = history(&states, json!({"executionArn": arn})).await;
    let all = full["events"].as_array().expect("events");
    assert_eq!(
        all[..running["events"].as_array().expect("events").len()],
        running["events"].as_array().expect("events")[..],
        "the events seen while running are the first events of the history"
    );
    assert_eq!(
        types(&full).last().map(String::as_str),
        Some("ExecutionSucceeded")
    );
    lambda.shutdown();
}

#[tokio::test]
async fn history_comes_in_pages_and_can_leave_the_data_out() {
    let (states, lambda) = services();
    let arn = start(&states, json!({"action": "echo", "secret": "s3cr3t"})).await;
    assert_eq!(wait_until_ended(&states, &arn).await["status"], "SUCCEEDED");
    let whole = history(&states, json!({"executionArn": arn})).await;
    assert!(whole.get("nextToken").is_none());
    let whole_events = whole["events"].as_array().expect("events").clone();
    assert!(whole_events.len() > 4);

    let mut paged = Vec::new();
    let mut request = json!({"executionArn": arn, "maxResults": 3});
    loop {
        let page = history(&states, request.clone()).await;
        let events = page["events"].as_array().expect("events");
        assert!(events.len() <= 3);
        paged.extend(events.iter().cloned());
        match page.get("nextToken") {
            Some(token) => request["nextToken"] = token.clone(),
            None => break,
        }
    }
    assert_eq!(paged, whole_events);

    let reversed = history(&states, json!({"executionArn": arn, "reverseOrder": true})).await;
    let mut expected = whole_events.clone();
    expected.reverse();
    assert_eq!(reversed["events"].as_array().expect("events"), &expected);

    let without_data = history(
        &states,
        json!({"executionArn": arn, "includeExecutionData": false}),
    )
    .await;
    assert!(whole.to_string().contains("s3cr3t"));
    assert!(
        !without_data.to_string().contains("s3cr3t"),
        "{without_data}"
    );
    assert_eq!(types(&without_data), types(&whole));

    for (request, error_type) in [
        (
            json!({"executionArn": arn, "nextToken": "garbage"}),
            "InvalidToken",
        ),
        (
            json!({"executionArn": arn, "nextToken": "2:arn:aws:states:us-east-1:123456789012:execution:Other:x"}),
            "InvalidToken",
        ),
        (
            json!({"executionArn": arn, "maxResults": 1001}),
            "ValidationException",
        ),
    ] {
        let error = states
            .call("GetExecutionHistory", request.clone())
            .await
            .expect_err("refused");
        assert_eq!(error.error_type, error_type, "{request}");
    }
    lambda.shutdown();
}
