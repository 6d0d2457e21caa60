//! Errors: the ones an execution reports (named as AWS names them) and the ones the caller gets for a
//! definition the interpreter cannot run.

use serde::{Deserialize, Serialize};

/// Error names Step Functions itself raises.
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const RUNTIME: &str = "States.Runtime";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const PERMISSIONS: &str = "States.Permissions";
}

/// A failure inside an execution: an error name and a cause, exactly what a Catch or the failed
/// execution reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct StatesError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause")]
    pub cause: String,
}

impl StatesError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError {
            error: error.into(),
            cause: cause.into(),
        }
    }
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(names::RUNTIME, cause)
    }
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(names::INTRINSIC_FAILURE, cause)
    }
    pub fn parameter_path(cause: impl Into<String>) -> Self {
        Self::new(names::PARAMETER_PATH_FAILURE, cause)
    }
    pub fn timeout(cause: impl Into<String>) -> Self {
        Self::new(names::TIMEOUT, cause)
    }

    /// A Lambda function error as Step Functions reports it: the function's `errorType` is the error
    /// name and the cause is the function's error object as JSON text.
    pub fn lambda_function_error(error_type: &str, error_message: &str, trace: &[String]) -> Self {
        let cause = serde_json::json!({
            "errorMessage": error_message,
            "errorType": error_type,
            "trace": trace,
        });
        Self::new(error_type, cause.to_string())
    }

    /// The object a Catch writes at its ResultPath.
    pub fn to_catch_output(&self) -> serde_json::Value {
        serde_json::json!({"Error": self.error, "Cause": self.cause})
    }

    /// Errors that end the execution whatever the Retry and Catch say.
    pub fn is_terminal(&self) -> bool {
        self.error == names::RUNTIME || self.error == names::DATA_LIMIT_EXCEEDED
    }
}

/// Whether an `ErrorEquals` entry matches an error, with the documented rules: `States.ALL` matches every
/// error but the terminal ones (States.Runtime, States.DataLimitExceeded); `States.TaskFailed` matches
/// every error but `States.Timeout` (and the terminal ones); anything else matches by exact name.
pub fn error_equals_matches(pattern: &str, error: &StatesError) -> bool {
    if error.is_terminal() {
        return false;
    }
    match pattern {
        names::ALL => true,
        names::TASK_FAILED => error.error != names::TIMEOUT,
        other => other == error.error,
    }
}

/// Why a definition cannot be run (reported before anything executes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("the definition is not valid JSON: {0}")]
    Json(String),
    #[error("the definition is not a valid state machine: {0}")]
    Model(String),
    #[error("QueryLanguage JSONata is not supported by this interpreter (only JSONPath): {0}")]
    Jsonata(String),
    #[error("the definition is invalid: {0}")]
    Invalid(String),
}
