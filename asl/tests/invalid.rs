//! Every validation rule has failing cases in `tests/invalid/*.json`: a definition, the functions the
//! context declares (if any), and exactly the errors expected (state path, rule, message substring).

use std::path::PathBuf;

use asl::{Rule, StateMachine, ValidationContext, ValidationError, validate};
use serde_json::Value;

fn matches(expected: &Value, actual: &ValidationError) -> bool {
    expected["state"] == actual.state.as_str()
        && expected["rule"] == actual.rule.name()
        && actual
            .message
            .contains(expected["message"].as_str().unwrap())
}

#[test]
fn invalid_definitions_give_exactly_the_expected_errors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the invalid corpus shrank");
    let mut rules_covered = std::collections::BTreeSet::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let machine = StateMachine::from_value(case["definition"].clone())
            .unwrap_or_else(|e| panic!("{name}: does not read: {e}"));
        let context = match case.get("functions") {
            Some(functions) => ValidationContext::new()
                .require_known_functions()
                .with_functions(
                    functions
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_str().unwrap().to_string()),
                ),
            None => ValidationContext::new(),
        };
        let actual = validate(&machine, &context).expect_err(&name);
        let shown: Vec<String> = actual.iter().map(ToString::to_string).collect();
        let expected = case["errors"].as_array().unwrap();
        assert_eq!(
            expected.len(),
            actual.len(),
            "{name}: got\n{}",
            shown.join("\n")
        );
        let mut unmatched: Vec<&ValidationError> = actual.iter().collect();
        for want in expected {
            let Some(i) = unmatched.iter().position(|got| matches(want, got)) else {
                panic!("{name}: no error matches {want}; got\n{}", shown.join("\n"));
            };
            rules_covered.insert(unmatched.remove(i).rule);
        }
        // Validation does not change the definition: it still writes back what was read.
        assert_eq!(machine.to_value(), case["definition"], "{name}");
    }
    let all = [
        Rule::StartAtExists,
        Rule::TargetExists,
        Rule::Reachable,
        Rule::CanTerminate,
        Rule::NextXorEnd,
        Rule::StatesAllLast,
        Rule::RetryCatchFields,
        Rule::PathSyntax,
        Rule::ReferencePath,
        Rule::PayloadTemplate,
        Rule::KnownFunction,
        Rule::ChoiceRule,
        Rule::FailFields,
        Rule::WaitFields,
        Rule::MapParallelFields,
        Rule::TaskTimeouts,
        Rule::StateName,
        Rule::JsonataUnsupported,
    ];
    let missing: Vec<&Rule> = all.iter().filter(|r| !rules_covered.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "rules without a failing case: {missing:?}"
    );
}

#[test]
fn error_display_names_state_and_rule() {
    let machine = StateMachine::from_json(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
    )
    .unwrap();
    let errors = validate(&machine, &ValidationContext::new()).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "A: `Next` names `B`, which is not a state of this scope [target-exists]"
    );
    let machine =
        StateMachine::from_json(r#"{"StartAt": "Z", "States": {"A": {"Type": "Succeed"}}}"#)
            .unwrap();
    let errors = validate(&machine, &ValidationContext::new()).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "(state machine): `StartAt` names `Z`, which is not a state of this scope [start-at-exists]"
    );
}

#[test]
fn function_checking_is_off_by_default_and_exact_when_on() {
    let machine = StateMachine::from_json(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${F}", "End": true}}}"#,
    )
    .unwrap();
    assert_eq!(validate(&machine, &ValidationContext::new()), Ok(()));
    let declared = ValidationContext::new().with_substitutions(["F"]);
    assert_eq!(validate(&machine, &declared), Ok(()));
    let other = ValidationContext::new().with_substitutions(["G"]);
    assert!(validate(&machine, &other).is_err());
}
