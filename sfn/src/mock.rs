//! Mocked task responses in the format of Step Functions Local's mock configuration:
//!
//! ```json
//! {
//!   "StateMachines": {
//!     "Orders": {"TestCases": {"HappyPath": {"CheckStock": "StockOk", "Reserve": "ReserveFailsOnce"}}}
//!   },
//!   "MockedResponses": {
//!     "StockOk": {"0": {"Return": {"StatusCode": 200, "Payload": {"ok": true}}}},
//!     "ReserveFailsOnce": {
//!       "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}},
//!       "1-2": {"Return": {"StatusCode": 200, "Payload": {"applied": true}}}
//!     }
//!   }
//! }
//! ```
//!
//! A mocked state's task is not run: its n-th invocation (0-based, counting retries and Map iterations)
//! gets the response whose key is `"n"` or a range `"a-b"` containing n; past the last key, the last
//! response is repeated. `Return` is the whole task result (for `lambda:invoke`, the invoke response),
//! exactly as Step Functions Local takes it. States a test case does not mock fail with
//! `States.Runtime`.
//!
//! Beyond Step Functions Local's format, a response may also be `{"Echo": true}` (return the task's
//! input), `{"FunctionError": {"errorType", "errorMessage"}}` (a Lambda function error, with the cause
//! Step Functions gives it), and may carry `"DelaySeconds": n` (answer after n seconds of the
//! execution's clock, to exercise timeouts).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use crate::error::StatesError;
use crate::task::{FunctionCall, TaskHandler, TaskInvocation};

/// One mocked answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct MockResponse {
    #[serde(default)]
    pub r#return: Option<Value>,
    #[serde(default)]
    pub throw: Option<MockThrow>,
    #[serde(default)]
    pub echo: Option<bool>,
    #[serde(default)]
    pub function_error: Option<MockFunctionError>,
    #[serde(default)]
    pub delay_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MockThrow {
    pub error: String,
    #[serde(default)]
    pub cause: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MockFunctionError {
    pub error_type: String,
    #[serde(default)]
    pub error_message: String,
    #[serde(default)]
    pub trace: Vec<String>,
}

impl MockResponse {
    /// The answer to an invocation whose input was `input`.
    pub async fn answer(
        &self,
        input: &Value,
        clock: &dyn crate::Clock,
    ) -> Result<Value, StatesError> {
        if let Some(seconds) = self.delay_seconds
            && seconds > 0.0
            && seconds.is_finite()
        {
            clock.sleep(Duration::from_secs_f64(seconds)).await;
        }
        if let Some(throw) = &self.throw {
            return Err(StatesError::new(&throw.error, &throw.cause));
        }
        if let Some(error) = &self.function_error {
            return Err(StatesError::lambda_function_error(
                &error.error_type,
                &error.error_message,
                &error.trace,
            ));
        }
        if self.echo == Some(true) {
            return Ok(input.clone());
        }
        Ok(self.r#return.clone().unwrap_or(Value::Null))
    }
}

/// Why a mock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MockConfigError {
    #[error("the mock file is not valid: {0}")]
    Format(String),
    #[error("the mock file has no state machine '{0}' (known: {1})")]
    UnknownStateMachine(String, String),
    #[error("state machine '{0}' has no test case '{1}' (known: {2})")]
    UnknownTestCase(String, String, String),
    #[error("test case '{0}' uses mocked response '{1}', which MockedResponses does not define")]
    UnknownResponse(String, String),
    #[error("mocked response '{0}': invalid invocation key '{1}' (expected \"n\" or \"a-b\")")]
    BadKey(String, String),
    #[error("several state machines or test cases in the mock file: choose one with {0}")]
    Ambiguous(&'static str),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MockFile {
    #[serde(default)]
    state_machines: BTreeMap<String, MockStateMachine>,
    #[serde(default)]
    mocked_responses: BTreeMap<String, BTreeMap<String, MockResponse>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MockStateMachine {
    #[serde(default)]
    test_cases: BTreeMap<String, BTreeMap<String, String>>,
}

/// Answers per state name, in invocation order.
#[derive(Debug, Clone, Default)]
pub struct ResponseSequence {
    ranges: Vec<(usize, usize, MockResponse)>,
}

impl ResponseSequence {
    pub fn from_list(responses: Vec<MockResponse>) -> Self {
        ResponseSequence {
            ranges: responses
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i, i, r))
                .collect(),
        }
    }

    fn from_keys(
        name: &str,
        keyed: &BTreeMap<String, MockResponse>,
    ) -> Result<Self, MockConfigError> {
        let mut ranges = Vec::new();
        for (key, response) in keyed {
            let bad = || MockConfigError::BadKey(name.to_string(), key.clone());
            let (from, to) = match key.split_once('-') {
                Some((a, b)) => (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                ),
                None => {
                    let n: usize = key.trim().parse().map_err(|_| bad())?;
                    (n, n)
                }
            };
            if from > to {
                return Err(bad());
            }
            ranges.push((from, to, response.clone()));
        }
        ranges.sort_by_key(|(from, _, _)| *from);
        Ok(ResponseSequence { ranges })
    }

    /// The response to the n-th invocation; past the last, the last one.
    pub fn get(&self, invocation: usize) -> Option<&MockResponse> {
        self.ranges
            .iter()
            .find(|(from, to, _)| (*from..=*to).contains(&invocation))
            .or_else(|| self.ranges.last())
            .map(|(_, _, response)| response)
    }
}

/// A [`TaskHandler`] that answers mocked states (by state name) and optionally mocked functions (by
/// function name, behind the interpreter's Lambda resource handling); anything else fails with
/// `States.Runtime`. It records every task invocation it receives.
#[derive(Debug, Default)]
pub struct MockHandler {
    states: HashMap<String, ResponseSequence>,
    functions: HashMap<String, ResponseSequence>,
    counters: Mutex<HashMap<String, usize>>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl MockHandler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answer the task of state `state` (the whole task result).
    pub fn mock_state(mut self, state: impl Into<String>, responses: ResponseSequence) -> Self {
        self.states.insert(state.into(), responses);
        self
    }

    /// Answer Lambda function `function` (its payload; the interpreter wraps it).
    pub fn mock_function(
        mut self,
        function: impl Into<String>,
        responses: ResponseSequence,
    ) -> Self {
        self.functions.insert(function.into(), responses);
        self
    }

    /// Read a Step Functions Local mock configuration and pick one state machine and test case (either
    /// may be omitted when the file has exactly one).
    pub fn from_config(
        text: &str,
        state_machine: Option<&str>,
        test_case: Option<&str>,
    ) -> Result<Self, MockConfigError> {
        let file: MockFile =
            serde_json::from_str(text).map_err(|e| MockConfigError::Format(e.to_string()))?;
        let machine_name = match state_machine {
            Some(name) => name.to_string(),
            None if file.state_machines.len() == 1 => file
                .state_machines
                .keys()
                .next()
                .cloned()
                .unwrap_or_default(),
            None => return Err(MockConfigError::Ambiguous("--state-machine-name")),
        };
        let known = |keys: Vec<&String>| keys.into_iter().cloned().collect::<Vec<_>>().join(", ");
        let machine = file.state_machines.get(&machine_name).ok_or_else(|| {
            MockConfigError::UnknownStateMachine(
                machine_name.clone(),
                known(file.state_machines.keys().collect()),
            )
        })?;
        let case_name = match test_case {
            Some(name) => name.to_string(),
            None if machine.test_cases.len() == 1 => machine
                .test_cases
                .keys()
                .next()
                .cloned()
                .unwrap_or_default(),
            None => return Err(MockConfigError::Ambiguous("--test-case")),
        };
        let case = machine.test_cases.get(&case_name).ok_or_else(|| {
            MockConfigError::UnknownTestCase(
                machine_name.clone(),
                case_name.clone(),
                known(machine.test_cases.keys().collect()),
            )
        })?;
        let mut handler = MockHandler::new();
        for (state, response_name) in case {
            let keyed = file.mocked_responses.get(response_name).ok_or_else(|| {
                MockConfigError::UnknownResponse(case_name.clone(), response_name.clone())
            })?;
            handler = handler.mock_state(
                state.clone(),
                ResponseSequence::from_keys(response_name, keyed)?,
            );
        }
        Ok(handler)
    }

    /// Every task invocation so far: (state name, effective input), in the order received.
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn next_invocation(&self, key: &str) -> usize {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let counter = counters.entry(key.to_string()).or_insert(0);
        let current = *counter;
        *counter += 1;
        current
    }
}

impl TaskHandler for MockHandler {
    fn invoke_task(&self, task: TaskInvocation) -> BoxFuture<'_, Result<Value, StatesError>> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((task.context.state_name.clone(), task.input.clone()));
        match self.states.get(&task.context.state_name) {
            Some(sequence) => {
                let invocation =
                    self.next_invocation(&format!("state:{}", task.context.state_name));
                let response = sequence.get(invocation).cloned();
                Box::pin(async move {
                    match response {
                        Some(response) => {
                            response
                                .answer(&task.input, task.context.clock.as_ref())
                                .await
                        }
                        None => Ok(Value::Null),
                    }
                })
            }
            None => crate::task::default_invoke_task(self, task),
        }
    }

    fn invoke_function(&self, call: FunctionCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        let Some(sequence) = self.functions.get(&call.function_name) else {
            let cause = format!(
                "no mocked response for state '{}' (function '{}')",
                call.context.state_name, call.function_name
            );
            return Box::pin(async move { Err(StatesError::runtime(cause)) });
        };
        let invocation = self.next_invocation(&format!("function:{}", call.function_name));
        let response = sequence.get(invocation).cloned();
        Box::pin(async move {
            match response {
                Some(response) => {
                    response
                        .answer(&call.payload, call.context.clock.as_ref())
                        .await
                }
                None => Ok(Value::Null),
            }
        })
    }
}
