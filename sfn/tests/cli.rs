//! The `sfn` binary against fixture files under `tests/cli/` and the project's template.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli")
        .join(name)
}

fn run(args: &[&str]) -> (i32, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sfn"))
        .args(args)
        .output()
        .expect("sfn runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let printed = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        output.status.code().unwrap_or(-1),
        printed,
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn a_retried_mock_succeeds_and_exits_0() {
    let definition = fixture("greeting.asl.json");
    let mocks = fixture("greeting-mocks.json");
    let (code, printed, stderr) = run(&[
        "run",
        "--definition",
        definition.to_str().unwrap(),
        "--input",
        r#"{"name": "Ada"}"#,
        "--mocks",
        mocks.to_str().unwrap(),
        "--test-case",
        "RetriedOnce",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(printed["status"], "SUCCEEDED");
    assert_eq!(
        printed["output"],
        serde_json::json!({"greeting": "Hello, Ada!"})
    );
    let types: Vec<&str> = printed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "TaskFailed").count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| **t == "TaskSucceeded").count(),
        1,
        "{types:?}"
    );
}

#[test]
fn an_unhandled_error_fails_with_error_and_cause_and_exits_1() {
    let (code, printed, stderr) = run(&[
        "run",
        "--definition",
        fixture("greeting.asl.json").to_str().unwrap(),
        "--input",
        r#"{"name": "Ada"}"#,
        "--mocks",
        fixture("greeting-mocks.json").to_str().unwrap(),
        "--test-case",
        "GreeterBroken",
        "--no-history",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(printed["status"], "FAILED");
    assert_eq!(printed["error"], "Unhandled");
    assert_eq!(printed["cause"], "greeter crashed");
    assert!(printed.get("history").is_none());
}

#[test]
fn jsonata_is_a_definition_error_exiting_2() {
    let (code, _, stderr) = run(&[
        "run",
        "--definition",
        fixture("jsonata.asl.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("JSONata"), "{stderr}");
}

#[test]
fn bad_usage_exits_2() {
    let (code, _, stderr) = run(&[
        "run",
        "--definition",
        fixture("greeting.asl.json").to_str().unwrap(),
        "--input",
        "{not json",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--input"), "{stderr}");
    let (code, _, _) = run(&["run"]);
    assert_eq!(code, 2);
    let (code, _, stderr) = run(&[
        "run",
        "--definition",
        fixture("greeting.asl.json").to_str().unwrap(),
        "--mocks",
        fixture("greeting-mocks.json").to_str().unwrap(),
        "--test-case",
        "Nope",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Nope"), "{stderr}");
}

#[test]
fn help_describes_the_run_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_sfn"))
        .args(["run", "--help"])
        .output()
        .expect("sfn runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--definition",
        "--input",
        "--mocks",
        "--test-case",
        "--state-machine",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/template.yaml")
}

fn order(case: &str) -> (i32, Value, String) {
    let input = format!("@{}", fixture("order-input.json").display());
    run(&[
        "run",
        "--definition",
        template().to_str().unwrap(),
        "--state-machine",
        "OrderWorkflow",
        "--input",
        &input,
        "--mocks",
        fixture("order-mocks.json").to_str().unwrap(),
        "--test-case",
        case,
        "--name",
        "o-1",
    ])
}

#[test]
fn the_templates_order_workflow_runs_from_the_template_with_mocks() {
    if !template().exists() {
        panic!("templates/template.yaml is missing: run `cargo run -p synth` first");
    }
    let (code, printed, stderr) = order("HappyPath");
    assert_eq!(code, 0, "{stderr} {printed}");
    assert_eq!(
        printed["output"],
        serde_json::json!({"orderId": "o-1", "status": "CONFIRMED"})
    );

    let (code, printed, stderr) = order("OutOfStock");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(printed["error"], "OutOfStock");

    let (code, printed, stderr) = order("ReservationFails");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(printed["error"], "OutOfStock");
    let entered: Vec<&str> = printed["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "TaskStateEntered")
        .filter_map(|e| e["stateEnteredEventDetails"]["name"].as_str())
        .collect();
    assert!(
        entered.contains(&"CancelOrder"),
        "compensation did not run: {entered:?}"
    );
}
