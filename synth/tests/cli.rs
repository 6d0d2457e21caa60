//! The `synth` binary: formats, --out, --express, --help, and nothing written on error.

use std::process::Command;

use serde_json::Value;

fn synth() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synth"))
}

#[test]
fn prints_yaml_by_default_and_json_on_request() {
    let yaml = synth().output().expect("runs");
    assert!(yaml.status.success());
    let yaml_doc: Value = yaml_serde::from_slice(&yaml.stdout).expect("YAML");
    let json = synth().args(["--format", "json"]).output().expect("runs");
    assert!(json.status.success());
    let json_doc: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(yaml_doc, json_doc);
    assert_eq!(
        json_doc["Resources"]["OrderWorkflow"]["Properties"]["StateMachineType"],
        "STANDARD"
    );
}

#[test]
fn express_switches_the_workflow_and_the_integration() {
    let output = synth()
        .args(["--express", "--format", "json"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        document["Resources"]["OrderWorkflow"]["Properties"]["StateMachineType"],
        "EXPRESS"
    );
    let uri =
        &document["Resources"]["CreateOrderMethod"]["Properties"]["Integration"]["Uri"]["Fn::Sub"];
    assert!(
        uri.as_str()
            .is_some_and(|uri| uri.ends_with("StartSyncExecution")),
        "{uri}"
    );
}

#[test]
fn out_writes_the_file_and_nothing_on_stdout() {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("template.yaml");
    let output = synth()
        .args(["--artifacts-dir", "/opt/zips"])
        .arg("--out")
        .arg(&path)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    let written = std::fs::read_to_string(&path).expect("written");
    assert!(written.contains("Code: /opt/zips/create-order/bootstrap.zip"));
    let leftovers: Vec<_> = std::fs::read_dir(directory.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn a_failed_write_reports_the_path_and_writes_nothing() {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("missing-dir").join("template.yaml");
    let output = synth().arg("--out").arg(&path).output().expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing-dir"), "{stderr}");
    assert!(!path.exists());
    assert!(output.stdout.is_empty());
}

#[test]
fn help_and_bad_arguments() {
    let help = synth().arg("--help").output().expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for option in ["--format", "--out", "--express", "--artifacts-dir"] {
        assert!(text.contains(option), "--help mentions {option}");
    }
    let bad = synth().args(["--format", "toml"]).output().expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("toml"));
}
