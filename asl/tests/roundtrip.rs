//! Every definition in `tests/valid/` reads into the model and writes back byte for byte (after
//! `serde_json::to_string_pretty` normalization), and validates.

use std::path::PathBuf;

use asl::{StateMachine, ValidationContext, validate};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn corpus(dir: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The function references the corpus uses: plain ARNs and `${...}` substitutions.
fn corpus_context(machine: &StateMachine) -> ValidationContext {
    let text = machine.to_json();
    let mut context = ValidationContext::new();
    for token in text.split('"') {
        if token.starts_with("arn:aws:lambda:") || (token.starts_with("${") && token.ends_with('}'))
        {
            context = context.with_function(token);
        }
    }
    context
}

#[test]
fn valid_definitions_round_trip_byte_for_byte() {
    let files = corpus("valid");
    assert!(files.len() >= 10, "the corpus shrank");
    for (name, text) in files {
        let machine = StateMachine::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let as_value: Value = serde_json::from_str(&text).unwrap();
        // Nothing lost or added, whatever the order...
        assert_eq!(machine.to_value(), as_value, "{name}");
        // ...and the order is the file's too.
        let normalized = serde_json::to_string_pretty(&as_value).unwrap();
        assert_eq!(machine.to_json_pretty(), normalized, "{name}");
        // Reading what was written gives the same model.
        assert_eq!(
            StateMachine::from_json(&machine.to_json()).unwrap(),
            machine,
            "{name}"
        );
    }
}

#[test]
fn valid_definitions_validate() {
    for (name, text) in corpus("valid") {
        let machine = StateMachine::from_json(&text).unwrap();
        let context = corpus_context(&machine);
        if let Err(errors) = validate(&machine, &context) {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{name}:\n{}", messages.join("\n"));
        }
    }
}
