//! The conformance suite: every `tests/conformance/<area>/<case>.json` is one documented behaviour.
//! Each case gives a definition, an input, the mocked task answers (`tasks` by state name, whole task
//! results; `functions` by function name, payloads the interpreter wraps), and the expected outcome.
//! All cases run on a virtual clock starting at 2024-01-01T00:00:00Z; every failing case is reported by
//! name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sfn::mock::{MockHandler, MockResponse, ResponseSequence};
use sfn::{ExecutionOptions, Executor, StateMachine, VirtualClock};

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("conformance dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            case_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn sequences(case: &Value, key: &str) -> Vec<(String, ResponseSequence)> {
    case.get(key)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, list)| {
            let responses: Vec<MockResponse> = serde_json::from_value(list.clone())
                .unwrap_or_else(|e| panic!("bad {key} for {name}: {e}"));
            (name.clone(), ResponseSequence::from_list(responses))
        })
        .collect()
}

async fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Value =
        serde_json::from_str(&text).map_err(|e| format!("case file is not JSON: {e}"))?;
    let expected = &case["expected"];
    let machine = match StateMachine::from_value(case["definition"].clone()) {
        Ok(machine) => machine,
        Err(error) => {
            if expected["status"] == "INVALID_DEFINITION" {
                let needle = expected["errorContains"].as_str().unwrap_or_default();
                return if error.to_string().contains(needle) {
                    Ok(())
                } else {
                    Err(format!(
                        "definition error '{error}' does not mention '{needle}'"
                    ))
                };
            }
            return Err(format!("definition refused: {error}"));
        }
    };
    if expected["status"] == "INVALID_DEFINITION" {
        return Err("the definition was accepted, expected a definition error".into());
    }
    let mut handler = MockHandler::new();
    for (state, sequence) in sequences(&case, "tasks") {
        handler = handler.mock_state(state, sequence);
    }
    for (function, sequence) in sequences(&case, "functions") {
        handler = handler.mock_function(function, sequence);
    }
    let handler = Arc::new(handler);
    let start: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().expect("start time");
    let executor =
        Executor::new(handler.clone()).with_clock(Arc::new(VirtualClock::starting_at(start)));
    let options = ExecutionOptions {
        state_machine_name: "test-state-machine".into(),
        ..ExecutionOptions::default()
    }
    .named("test-execution");
    let result = executor.run(&machine, case["input"].clone(), options).await;
    let mut problems = Vec::new();
    if result.status.as_str() != expected["status"].as_str().unwrap_or_default() {
        problems.push(format!(
            "status {} (error {:?}, cause {:?}), expected {}",
            result.status.as_str(),
            result.error,
            result.cause,
            expected["status"]
        ));
    }
    if let Some(output) = expected.get("output")
        && !result
            .output
            .as_ref()
            .is_some_and(|actual| same_json(actual, output))
    {
        problems.push(format!(
            "output {:?}, expected {output}",
            result.output.as_ref().map(|o| o.to_string())
        ));
    }
    if let Some(error) = expected.get("error").and_then(Value::as_str)
        && result.error.as_deref() != Some(error)
    {
        problems.push(format!(
            "error {:?} (cause {:?}), expected {error}",
            result.error, result.cause
        ));
    }
    if let Some(cause) = expected.get("cause").and_then(Value::as_str)
        && result.cause.as_deref() != Some(cause)
    {
        problems.push(format!("cause {:?}, expected {cause:?}", result.cause));
    }
    if let Some(needle) = expected.get("causeContains").and_then(Value::as_str)
        && !result.cause.as_deref().unwrap_or_default().contains(needle)
    {
        problems.push(format!(
            "cause {:?} does not contain {needle:?}",
            result.cause
        ));
    }
    if let Some(types) = expected.get("historyTypes").and_then(Value::as_array) {
        let actual: Vec<&str> = result
            .history
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        let wanted: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        if actual != wanted {
            problems.push(format!("history {actual:?}, expected {wanted:?}"));
        }
    }
    if let Some(count) = expected.get("stateTransitions").and_then(Value::as_u64)
        && result.state_transitions != count
    {
        problems.push(format!(
            "{} state transitions, expected {count}",
            result.state_transitions
        ));
    }
    if let Some(calls) = case.get("calls").and_then(Value::as_array) {
        let actual = handler.calls();
        let matches = actual.len() == calls.len()
            && actual.iter().zip(calls).all(|((state, input), wanted)| {
                wanted["state"] == state.as_str() && same_json(input, &wanted["input"])
            });
        if !matches {
            problems.push(format!("task calls {actual:?}, expected {calls:?}"));
        }
    }
    // history integrity: ids are 1..n and every previous id points backwards
    for (index, event) in result.history.iter().enumerate() {
        if event.id != index as u64 + 1 || event.previous_event_id >= event.id {
            problems.push(format!(
                "history event {} has id {} / previous {}",
                index, event.id, event.previous_event_id
            ));
            break;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n      "))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conformance_case_behaves_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files = Vec::new();
    case_files(&root, &mut files);
    assert!(files.len() > 150, "only {} cases found", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let outcome =
            tokio::time::timeout(std::time::Duration::from_secs(30), run_case(path)).await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => failures.push(format!("{name}:\n      {problem}")),
            Err(_) => failures.push(format!(
                "{name}: did not finish (a virtual-clock deadlock?)"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases failed:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}
