//! Model behaviour beyond the corpus: null vs absent, errors naming states, intrinsic parsing cases
//! (`tests/cases/intrinsics.json`), payload helpers.

use std::path::PathBuf;

use asl::intrinsic::{self, Expr};
use asl::payload::{Dynamic, dynamic_fields};
use asl::{Condition, Nullable, State, StateMachine};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn machine(states: Value) -> StateMachine {
    StateMachine::from_value(json!({"StartAt": "A", "States": states})).unwrap()
}

#[test]
fn null_paths_are_not_absent_paths() {
    let m = machine(json!({
        "A": {"Type": "Task", "Resource": "r", "ResultPath": null, "InputPath": null, "Next": "B"},
        "B": {"Type": "Pass", "OutputPath": "$.x", "Result": null, "End": true}
    }));
    let State::Task(a) = &m.states["A"] else {
        panic!()
    };
    assert_eq!(a.result_path, Nullable::Null);
    assert_eq!(a.result_path.effective_path(), None);
    assert_eq!(a.input_path, Nullable::Null);
    assert_eq!(a.output_path, Nullable::Absent);
    assert_eq!(a.output_path.effective_path(), Some("$"));
    let State::Pass(b) = &m.states["B"] else {
        panic!()
    };
    assert_eq!(b.result, Some(Value::Null));
    assert_eq!(b.output_path, Nullable::Value("$.x".to_string()));
    let written = m.to_value();
    assert_eq!(written["States"]["A"]["ResultPath"], Value::Null);
    assert!(written["States"]["A"].get("OutputPath").is_none());
    assert_eq!(written["States"]["B"]["Result"], Value::Null);
}

#[test]
fn reading_errors_name_the_state() {
    let cases = [
        (
            json!({"A": {"Type": "Task", "End": true}}),
            "state `A`: missing field `Resource`",
        ),
        (
            json!({"A": {"Type": "Pass", "Foo": 1, "End": true}}),
            "state `A`: unknown field `Foo`",
        ),
        (
            json!({"A": {"Type": "Teleport"}}),
            "state `A`: unknown variant `Teleport`",
        ),
        (
            json!({"A": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": -1, "End": true}}}], "End": true}}),
            "state `A`: state `B`:",
        ),
    ];
    for (states, expected) in cases {
        let err = StateMachine::from_value(json!({"StartAt": "A", "States": states})).unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "`{err}` lacks `{expected}`"
        );
    }
}

#[test]
fn malformed_choice_rules_read_and_write_back() {
    let rule = json!({"Variable": "$.x", "StringEquals": 5, "Next": "B"});
    let m = machine(json!({
        "A": {"Type": "Choice", "Choices": [rule], "Default": "B"},
        "B": {"Type": "Succeed"}
    }));
    let State::Choice(choice) = &m.states["A"] else {
        panic!()
    };
    let Condition::Malformed { reason, .. } = &choice.choices[0].condition else {
        panic!()
    };
    assert_eq!(reason, "`StringEquals` must be a string");
    assert_eq!(m.to_value()["States"]["A"]["Choices"][0], rule);
}

#[test]
fn intrinsic_cases() {
    let table = load("intrinsics.json");
    for case in table["valid"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let expr = intrinsic::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let Expr::Call(call) = &expr else {
            panic!("{text}: not a call")
        };
        assert_eq!(call.function.name(), case["function"], "{text}");
        assert_eq!(
            call.args.len() as u64,
            case["args"].as_u64().unwrap(),
            "{text}"
        );
        let paths: Vec<String> = expr.paths().iter().map(|p| p.to_string()).collect();
        let expected: Vec<String> = serde_json::from_value(case["paths"].clone()).unwrap();
        let expected: Vec<String> = expected
            .iter()
            .map(|p| jsonpath::JsonPath::parse(p).unwrap().to_string())
            .collect();
        assert_eq!(paths, expected, "{text}");
        if let Some(first) = case.get("first_string") {
            let Expr::String(literal) = &call.args[0] else {
                panic!("{text}")
            };
            assert_eq!(literal.value, first.as_str().unwrap(), "{text}");
            assert_eq!(
                literal.placeholders() as u64,
                case["placeholders"].as_u64().unwrap()
            );
        }
        // Display writes text that parses back to the same tree.
        let written = expr.to_string();
        assert_eq!(
            intrinsic::parse(&written).unwrap(),
            expr,
            "{text} -> {written}"
        );
        assert!(intrinsic::is_valid(text));
    }
    for case in table["invalid"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let err = intrinsic::parse(text).expect_err(text);
        let reason = case["reason"].as_str().unwrap();
        assert!(
            err.to_string().contains(reason),
            "{text}: `{err}` lacks `{reason}`"
        );
    }
}

#[test]
fn payload_dynamic_fields_include_arrays() {
    let template = json!({
        "Static": {"deep": [1, 2]},
        "Environment": [{"Name": "A", "Value.$": "$.a"}],
        "Nested": {"n.$": "States.ArrayLength($.l)", "bad.$": 3},
        "a/b~c.$": "$$.Execution.Id"
    });
    let fields = dynamic_fields(&template);
    let pointers: Vec<&str> = fields.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/Environment/0/Value.$",
            "/Nested/n.$",
            "/Nested/bad.$",
            "/a~1b~0c.$"
        ]
    );
    assert!(matches!(fields[0].parse(), Ok(Dynamic::Path(_))));
    assert!(matches!(fields[1].parse(), Ok(Dynamic::Intrinsic(_))));
    assert_eq!(
        fields[2].parse().unwrap_err().to_string(),
        "the value of a `.$` key must be a string (a path or an intrinsic function call), found a number"
    );
    assert_eq!(fields[3].output_key(), "a/b~c");
    // What a pointer names is the field itself.
    assert_eq!(template.pointer(&fields[0].pointer), Some(&json!("$.a")));
}

#[test]
fn choice_builders_write_the_spec_json() {
    use asl::{Choice, Succeed};
    let machine = StateMachine::new("Check")
        .state(
            "Check",
            Choice::new()
                .when(
                    Condition::and(vec![
                        Condition::is_present("$.order", true),
                        Condition::not(Condition::string_equals("$.status", "CANCELLED")),
                    ])
                    .then("Ok"),
                )
                .when(Condition::numeric_equals("$.count", 0).then("Ok"))
                .otherwise("Ok"),
        )
        .state("Ok", Succeed::new());
    assert_eq!(
        machine.to_value(),
        json!({
            "StartAt": "Check",
            "States": {
                "Check": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "And": [
                                {"Variable": "$.order", "IsPresent": true},
                                {"Not": {"Variable": "$.status", "StringEquals": "CANCELLED"}}
                            ],
                            "Next": "Ok"
                        },
                        {"Variable": "$.count", "NumericEquals": 0, "Next": "Ok"}
                    ],
                    "Default": "Ok"
                },
                "Ok": {"Type": "Succeed"}
            }
        })
    );
    assert_eq!(
        StateMachine::from_value(machine.to_value()).unwrap(),
        machine
    );
}
