//! Case tables in `tests/cases/*.json`: queries, parse errors, reference paths, setting.

use std::path::PathBuf;

use jsonpath::{JsonPath, ReferencePath};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_field<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("case without {field}: {case}"))
}

#[test]
fn query_cases() {
    let table = load("query.json");
    let context = &table["context"];
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() > 50);
    for case in cases {
        let text = str_field(case, "path");
        let doc = &table["documents"][str_field(case, "doc")];
        let path = JsonPath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let found: Vec<Value> = path
            .query_with_context(doc, context)
            .into_iter()
            .cloned()
            .collect();
        match &case["expected"] {
            Value::String(s) if s == "@doc" => assert_eq!(found, vec![doc.clone()], "{text}"),
            Value::String(s) if s == "@context" => {
                assert_eq!(found, vec![context.clone()], "{text}")
            }
            Value::String(s) if s.starts_with("@count:") => {
                assert_eq!(found.len().to_string(), s["@count:".len()..], "{text}")
            }
            Value::Array(expected) => assert_eq!(&found, expected, "{text}"),
            other => panic!("bad expected {other}"),
        }
        // Display writes a path that parses back to the same tree (and is stable from then on).
        let written = path.to_string();
        let reparsed =
            JsonPath::parse(&written).unwrap_or_else(|e| panic!("{text} -> {written}: {e}"));
        assert_eq!(reparsed, path, "{text} -> {written}");
        assert_eq!(reparsed.to_string(), written);
        assert!(JsonPath::is_valid(text));
    }
}

#[test]
fn query_without_context_selects_nothing_for_context_paths() {
    let path = JsonPath::parse("$$.Execution.Id").unwrap();
    assert!(
        path.query(&serde_json::json!({"Execution": {"Id": 1}}))
            .is_empty()
    );
    let err = path.query_one(&serde_json::json!({}), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the path `$$.Execution.Id` refers to the context object (`$$`) but none is available"
    );
}

#[test]
fn parse_error_cases() {
    for case in load("parse_errors.json").as_array().unwrap() {
        let text = str_field(case, "path");
        let err = JsonPath::parse(text).expect_err(text);
        assert_eq!(
            Some(err.position as u64),
            case["position"].as_u64(),
            "{text}: {err}"
        );
        let reason = str_field(case, "reason");
        assert!(
            err.to_string().contains(reason),
            "{text}: `{err}` lacks `{reason}`"
        );
        assert!(!JsonPath::is_valid(text));
        assert!(!ReferencePath::is_valid(text));
    }
}

#[test]
fn reference_path_cases() {
    let table = load("reference.json");
    for case in table["valid"].as_array().unwrap() {
        let text = str_field(case, "path");
        let path = ReferencePath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(path.to_string(), str_field(case, "display"));
        assert_eq!(ReferencePath::parse(&path.to_string()).unwrap(), path);
        assert!(ReferencePath::is_valid(text));
        // A reference path is a definite JSONPath naming the same node.
        let general = JsonPath::parse(text).unwrap();
        assert!(general.is_definite(), "{text}");
        assert_eq!(general.to_reference_path(), Some(path.clone()));
        assert_eq!(path.to_json_path(), general);
    }
    for case in table["invalid"].as_array().unwrap() {
        let text = str_field(case, "path");
        let err = ReferencePath::parse(text).expect_err(text);
        assert_eq!(
            Some(err.position as u64),
            case["position"].as_u64(),
            "{text}: {err}"
        );
        let reason = str_field(case, "reason");
        assert!(
            err.to_string().contains(reason),
            "{text}: `{err}` lacks `{reason}`"
        );
        assert!(!ReferencePath::is_valid(text));
    }
}

#[test]
fn set_cases() {
    for case in load("set.json").as_array().unwrap() {
        let text = str_field(case, "path");
        let path = ReferencePath::parse(text).unwrap();
        let mut target = case["input"].clone();
        let result = path.set(&mut target, case["value"].clone());
        match case.get("error") {
            Some(expected) => {
                let err = result.expect_err(text);
                assert_eq!(err.to_string(), expected.as_str().unwrap(), "{text}");
                assert_eq!(
                    target, case["input"],
                    "{text}: a failed set changed the target"
                );
            }
            None => {
                result.unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(target, case["expected"], "{text}");
                // What was set reads back.
                assert_eq!(path.get(&target, None), Some(&case["value"]), "{text}");
            }
        }
    }
}

#[test]
fn set_keeps_key_order() {
    let mut target: Value = serde_json::from_str(r#"{"z":1,"a":2,"m":3}"#).unwrap();
    ReferencePath::parse("$.a")
        .unwrap()
        .set(&mut target, Value::from(9))
        .unwrap();
    assert_eq!(
        serde_json::to_string(&target).unwrap(),
        r#"{"z":1,"a":9,"m":3}"#
    );
}

#[test]
fn resolve_follows_step_functions() {
    let input = serde_json::json!({"a": {"b": 1}, "list": [1, 2]});
    let resolve = |p: &str| JsonPath::parse(p).unwrap().resolve(&input, None);
    assert_eq!(resolve("$.a.b").unwrap(), Value::from(1));
    assert_eq!(resolve("$.list[0]").unwrap(), Value::from(1));
    assert_eq!(resolve("$.list[*]").unwrap(), serde_json::json!([1, 2]));
    assert_eq!(resolve("$.list[0:1]").unwrap(), serde_json::json!([1]));
    assert_eq!(resolve("$.none[*]").unwrap(), serde_json::json!([]));
    assert_eq!(
        resolve("$.a.c").unwrap_err().to_string(),
        "the path `$.a.c` selected nothing"
    );
    let many = JsonPath::parse("$.list[*]")
        .unwrap()
        .query_one(&input, None)
        .unwrap_err();
    assert_eq!(
        many.to_string(),
        "the path `$.list.*` selected 2 values where exactly one is needed"
    );
}

#[test]
fn serde_as_strings() {
    let path: ReferencePath = serde_json::from_str(r#""$.a['b c']""#).unwrap();
    assert_eq!(serde_json::to_string(&path).unwrap(), r#""$.a['b c']""#);
    let err = serde_json::from_str::<ReferencePath>(r#""$.a[*]""#).unwrap_err();
    assert!(err.to_string().contains("wildcard"), "{err}");
    let general: JsonPath = serde_json::from_str(r#""$..x""#).unwrap();
    assert_eq!(general.to_string(), "$..x");
}
