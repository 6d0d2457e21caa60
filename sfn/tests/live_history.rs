//! The history of an execution can be read while it runs (what `GetExecutionHistory` answers for a
//! RUNNING Standard execution), and the events seen then are the first events of the final history.

use serde_json::json;
use sfn::{ExecutionHistory, ExecutionOptions, Executor, StateMachine, TaskRequest, handler_fn};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

const MACHINE: &str = r#"{
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Slow"},
    "Slow": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow", "End": true}
  }
}"#;

fn event_types(history: &ExecutionHistory) -> Vec<String> {
    history
        .snapshot()
        .into_iter()
        .map(|event| event.event_type)
        .collect()
}

#[tokio::test]
async fn the_history_of_a_running_execution_shows_the_events_so_far() {
    let machine = StateMachine::from_json(MACHINE).expect("machine");
    // The task answers only when the test releases it, so the execution is certainly running in between.
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let entered = Arc::new(Mutex::new(Some(entered_tx)));
    let release = Arc::new(Mutex::new(Some(release_rx)));
    let handler = handler_fn(move |request: TaskRequest| {
        let entered = entered.lock().expect("lock").take();
        let release = release.lock().expect("lock").take();
        async move {
            if let Some(entered) = entered {
                let _ = entered.send(());
            }
            if let Some(release) = release {
                let _ = release.await;
            }
            Ok(json!({"seen": request.input().clone()}))
        }
    });
    let executor = Executor::new(handler);
    let history = ExecutionHistory::new();
    let run = tokio::spawn({
        let history = history.clone();
        async move {
            executor
                .run_with_history(&machine, json!({}), ExecutionOptions::default(), history)
                .await
        }
    });

    entered_rx.await.expect("the task starts");
    let while_running = event_types(&history);
    assert_eq!(
        while_running,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
        ]
    );
    assert!(!run.is_finished());

    release_tx.send(()).expect("the task waits");
    let result = run.await.expect("the execution ends");
    assert_eq!(result.output, Some(json!({"seen": {"n": 1}})));
    let final_types: Vec<String> = result
        .history
        .iter()
        .map(|event| event.event_type.clone())
        .collect();
    assert_eq!(final_types[..while_running.len()], while_running[..]);
    assert_eq!(
        final_types.last().map(String::as_str),
        Some("ExecutionSucceeded")
    );
    assert_eq!(history.snapshot(), result.history);
}
