//! Harness of the in-process tests over the test-only echo function (local/examples/echo-function.rs,
//! which `cargo test -p local` builds): where its binary is, the fixture stacks, the Lambda settings.

#![allow(dead_code)]

use local::lambda::{ConcurrencyLimitPolicy, LambdaSettings};
use local::template::{DeployContext, Stack};
use std::collections::HashMap;
use std::path::PathBuf;

/// target/<profile>/examples, which must hold the echo function.
pub fn examples_dir() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples
    let dir = std::env::current_exe()
        .expect("test path")
        .parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .join("examples");
    assert!(
        dir.join("echo-function").is_file(),
        "{}/echo-function is missing: run `cargo test -p local` (it builds the examples) or `cargo build -p local --examples`",
        dir.display()
    );
    dir
}

/// A stack of `tests/fixtures/<name>`.
pub fn fixture_stack(name: &str, context: DeployContext) -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Stack::load(&path, context).unwrap_or_else(|e| panic!("fixture {name} loads: {e}"))
}

/// Settings running the functions from `functions_dir`, with no DynamoDB to reach.
pub fn lambda_settings(
    functions_dir: PathBuf,
    default_concurrency: usize,
    on_limit: ConcurrencyLimitPolicy,
) -> LambdaSettings {
    LambdaSettings {
        functions_dir,
        binary_overrides: HashMap::new(),
        default_concurrency,
        on_limit,
        dynamodb_endpoint: "http://127.0.0.1:9".into(),
        extra_environment: Vec::new(),
        function_environment: HashMap::new(),
    }
}
