//! Tasks: what the interpreter asks of the caller.
//!
//! The interpreter resolves the Lambda resource forms itself and calls
//! [`TaskHandler::invoke_function`] with a function name and a payload; it wraps the answer the way the
//! resource form does (the whole invoke response for `arn:aws:states:::lambda:invoke`, the bare payload for
//! a function ARN). Every other resource goes to [`TaskHandler::invoke_resource`] untouched.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::error::StatesError;

/// What the task knows about where it runs.
#[derive(Clone)]
pub struct TaskContext {
    /// The Task state's name.
    pub state_name: String,
    /// The execution's ARN.
    pub execution_arn: String,
    /// The execution's name (unique per state machine).
    pub execution_name: String,
    /// 0 for the first attempt, then 1, 2... for retries.
    pub retry_count: u32,
    /// Set for `.waitForTaskToken` resources: the handler's answer is taken as the `SendTaskSuccess`
    /// output (or, for an `Err`, `SendTaskFailure`).
    pub task_token: Option<String>,
    /// Index of the enclosing Map iteration, when there is one.
    pub map_item_index: Option<usize>,
    /// The execution's clock, for handlers that simulate slow work (a timeout test).
    pub clock: Arc<dyn Clock>,
}

impl TaskContext {
    /// Sleep on the execution's clock (instant with a virtual clock).
    pub fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.clock.sleep(duration)
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext")
            .field("state_name", &self.state_name)
            .field("execution_arn", &self.execution_arn)
            .field("retry_count", &self.retry_count)
            .field("task_token", &self.task_token)
            .field("map_item_index", &self.map_item_index)
            .finish()
    }
}

/// "Invoke Lambda function `function_name` with `payload`."
#[derive(Debug, Clone)]
pub struct FunctionCall {
    /// The function as the definition names it (a name, a partial or full ARN, possibly qualified).
    pub function: String,
    /// The bare function name parsed from `function` (`arn:aws:lambda:r:a:function:NAME:alias` → `NAME`).
    pub function_name: String,
    /// Version or alias, when `function` has one.
    pub qualifier: Option<String>,
    pub payload: Value,
    pub context: TaskContext,
}

/// "Run resource `resource` with `input`" for anything that is not a Lambda invocation.
#[derive(Debug, Clone)]
pub struct ResourceCall {
    pub resource: String,
    pub input: Value,
    pub context: TaskContext,
}

/// One Task state invocation, before any resource-specific handling: the resource as written and the
/// effective input (after InputPath and Parameters).
#[derive(Debug, Clone)]
pub struct TaskInvocation {
    pub resource: String,
    pub input: Value,
    pub context: TaskContext,
}

/// The caller's side of Task states.
///
/// Implement [`TaskHandler::invoke_function`] (and [`TaskHandler::invoke_resource`] for non-Lambda
/// resources); the default [`TaskHandler::invoke_task`] resolves the Lambda resource forms and wraps
/// the answer as the resource form does. Override `invoke_task` to answer whole tasks yourself (mocked
/// responses, as Step Functions Local's mock configuration does).
///
/// `Err` carries the error name and cause the state fails with; for a Lambda function error use
/// [`StatesError::lambda_function_error`], for Lambda service errors the service's names
/// (`Lambda.ServiceException`...).
pub trait TaskHandler: Send + Sync + 'static {
    fn invoke_function(&self, call: FunctionCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        let cause = format!(
            "this task handler cannot invoke Lambda function '{}' (state '{}')",
            call.function, call.context.state_name
        );
        Box::pin(async move { Err(StatesError::new(crate::error::names::RUNTIME, cause)) })
    }

    fn invoke_resource(&self, call: ResourceCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        let cause = format!(
            "the resource '{}' of state '{}' is not supported by this task handler",
            call.resource, call.context.state_name
        );
        Box::pin(async move { Err(StatesError::new(crate::error::names::RUNTIME, cause)) })
    }

    fn invoke_task(&self, task: TaskInvocation) -> BoxFuture<'_, Result<Value, StatesError>> {
        default_invoke_task(self, task)
    }
}

/// What [`TaskHandler::invoke_task`] does by default: Lambda resource forms become
/// [`TaskHandler::invoke_function`] calls, everything else [`TaskHandler::invoke_resource`].
///
/// - `arn:aws:states:::lambda:invoke`: the effective input must hold `FunctionName`; the payload is its
///   `Payload` (`{}` when absent, as Lambda's Invoke API without a payload); the result is the invoke
///   response `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}`.
/// - `...lambda:invoke.waitForTaskToken`: same call; the handler's answer is taken as the callback
///   output (what `SendTaskSuccess` would carry).
/// - `arn:aws:lambda:REGION:ACCOUNT:function:NAME`: the effective input is the payload, the result the
///   bare payload.
pub fn default_invoke_task<H: TaskHandler + ?Sized>(
    handler: &H,
    task: TaskInvocation,
) -> BoxFuture<'_, Result<Value, StatesError>> {
    match classify_resource(&task.resource) {
        ResourceKind::LambdaInvoke { wait_for_token } => {
            let Some(function) = task.input.get("FunctionName").and_then(Value::as_str) else {
                let cause = format!(
                    "state '{}': lambda:invoke needs a string FunctionName in its Parameters",
                    task.context.state_name
                );
                return Box::pin(async move {
                    Err(StatesError::new(crate::error::names::RUNTIME, cause))
                });
            };
            let (function_name, qualifier) = parse_function_reference(function);
            let call = FunctionCall {
                function: function.to_string(),
                function_name,
                qualifier,
                payload: task
                    .input
                    .get("Payload")
                    .cloned()
                    .unwrap_or_else(|| json!({})),
                context: task.context,
            };
            let invoked = handler.invoke_function(call);
            Box::pin(async move {
                let payload = invoked.await?;
                if wait_for_token {
                    Ok(payload)
                } else {
                    Ok(lambda_invoke_response(
                        payload,
                        &uuid::Uuid::new_v4().to_string(),
                    ))
                }
            })
        }
        ResourceKind::LambdaArn => {
            let (function_name, qualifier) = parse_function_reference(&task.resource);
            handler.invoke_function(FunctionCall {
                function: task.resource,
                function_name,
                qualifier,
                payload: task.input,
                context: task.context,
            })
        }
        ResourceKind::Other { .. } => handler.invoke_resource(ResourceCall {
            resource: task.resource,
            input: task.input,
            context: task.context,
        }),
    }
}

/// A [`TaskHandler`] made of one closure that receives every task as a [`TaskRequest`].
pub struct FnHandler<F>(pub F);

/// One task invocation, as a closure-based handler sees it.
#[derive(Debug, Clone)]
pub enum TaskRequest {
    Function(FunctionCall),
    Resource(ResourceCall),
}

impl TaskRequest {
    pub fn context(&self) -> &TaskContext {
        match self {
            TaskRequest::Function(call) => &call.context,
            TaskRequest::Resource(call) => &call.context,
        }
    }
    /// The function name, or the raw resource.
    pub fn target(&self) -> &str {
        match self {
            TaskRequest::Function(call) => &call.function_name,
            TaskRequest::Resource(call) => &call.resource,
        }
    }
    /// The payload or the resource input.
    pub fn input(&self) -> &Value {
        match self {
            TaskRequest::Function(call) => &call.payload,
            TaskRequest::Resource(call) => &call.input,
        }
    }
}

impl<F, Fut> TaskHandler for FnHandler<F>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Value, StatesError>> + Send + 'static,
{
    fn invoke_function(&self, call: FunctionCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        Box::pin((self.0)(TaskRequest::Function(call)))
    }
    fn invoke_resource(&self, call: ResourceCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        Box::pin((self.0)(TaskRequest::Resource(call)))
    }
}

/// Wrap a closure as a shared task handler.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn TaskHandler>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Value, StatesError>> + Send + 'static,
{
    Arc::new(FnHandler(f))
}

/// How a Task's resource is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    /// `arn:aws:states:::lambda:invoke[.waitForTaskToken]`: function and payload from the parameters,
    /// the result is the invoke response.
    LambdaInvoke { wait_for_token: bool },
    /// `arn:aws:lambda:...:function:NAME`: the effective input is the payload, the result is the payload.
    LambdaArn,
    /// Anything else.
    Other { wait_for_token: bool },
}

pub(crate) fn classify_resource(resource: &str) -> ResourceKind {
    let (base, wait_for_token) = match resource.strip_suffix(".waitForTaskToken") {
        Some(base) => (base, true),
        None => (resource, false),
    };
    if base == "arn:aws:states:::lambda:invoke" || base.ends_with(":states:::lambda:invoke") {
        return ResourceKind::LambdaInvoke { wait_for_token };
    }
    if is_function_arn(resource) {
        return ResourceKind::LambdaArn;
    }
    ResourceKind::Other { wait_for_token }
}

fn is_function_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function"
}

/// Split a function reference (name, `NAME:qualifier`, `ACCOUNT:function:NAME`, full ARN) into name and
/// qualifier, as Lambda's Invoke accepts them.
pub fn parse_function_reference(function: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = function.split(':').collect();
    let after_function = parts.iter().position(|part| *part == "function");
    match after_function {
        Some(index) if index + 1 < parts.len() => {
            let name = parts[index + 1].to_string();
            let qualifier = parts.get(index + 2).map(|q| q.to_string());
            (name, qualifier)
        }
        _ => match parts.as_slice() {
            [name, qualifier] => (name.to_string(), Some(qualifier.to_string())),
            _ => (function.to_string(), None),
        },
    }
}

/// The response `arn:aws:states:::lambda:invoke` returns for a successful invocation.
pub(crate) fn lambda_invoke_response(payload: Value, request_id: &str) -> Value {
    json!({
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Type": ["application/json"]
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Type": "application/json",
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id
            },
            "HttpStatusCode": 200
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_forms_are_told_apart() {
        assert_eq!(
            classify_resource("arn:aws:states:::lambda:invoke"),
            ResourceKind::LambdaInvoke {
                wait_for_token: false
            }
        );
        assert_eq!(
            classify_resource("arn:aws:states:::lambda:invoke.waitForTaskToken"),
            ResourceKind::LambdaInvoke {
                wait_for_token: true
            }
        );
        assert_eq!(
            classify_resource("arn:aws:lambda:us-east-1:123456789012:function:is-item-in-stock"),
            ResourceKind::LambdaArn
        );
        assert_eq!(
            classify_resource("arn:aws:states:::dynamodb:putItem"),
            ResourceKind::Other {
                wait_for_token: false
            }
        );
    }

    #[test]
    fn function_references_give_name_and_qualifier() {
        assert_eq!(parse_function_reference("my-fn"), ("my-fn".into(), None));
        assert_eq!(
            parse_function_reference("my-fn:live"),
            ("my-fn".into(), Some("live".into()))
        );
        assert_eq!(
            parse_function_reference("arn:aws:lambda:us-east-1:123456789012:function:my-fn:7"),
            ("my-fn".into(), Some("7".into()))
        );
        assert_eq!(
            parse_function_reference("123456789012:function:my-fn"),
            ("my-fn".into(), None)
        );
    }
}
