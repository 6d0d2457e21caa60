//! A Step Functions interpreter: runs Amazon States Language definitions locally, the way AWS Step
//! Functions does, with Task states answered by a [`TaskHandler`] the caller provides and time kept by a
//! [`Clock`] the caller chooses.
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::json;
//! use sfn::{Executor, ExecutionOptions, StateMachine, TaskRequest, VirtualClock, handler_fn};
//!
//! let machine = StateMachine::from_json(r#"{
//!   "StartAt": "Double",
//!   "States": {"Double": {"Type": "Task",
//!     "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "End": true}}
//! }"#)?;
//! let handler = handler_fn(|request: TaskRequest| async move {
//!     Ok(json!(request.input()["n"].as_i64().unwrap_or(0) * 2))
//! });
//! let executor = Executor::new(handler).with_clock(Arc::new(VirtualClock::new()));
//! let runtime = tokio::runtime::Runtime::new()?;
//! let result = runtime.block_on(executor.run(&machine, json!({"n": 21}), ExecutionOptions::default()));
//! assert_eq!(result.output, Some(json!(42)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod choice;
pub mod clock;
mod definition;
pub mod error;
mod exec;
mod expr;
pub mod history;
pub mod intrinsics;
pub mod mock;
mod model;
pub mod task;
pub mod template;

pub use clock::{AcceleratedClock, Clock, SystemClock, VirtualClock};
pub use definition::StateMachine;
pub use error::{DefinitionError, StatesError};
pub use exec::{
    ExecutionOptions, ExecutionResult, ExecutionStatus, Executor, UNBOUNDED_MAP_CONCURRENCY,
};
pub use history::{ExecutionHistory, HistoryEvent};
pub use task::{
    FunctionCall, ResourceCall, TaskContext, TaskHandler, TaskInvocation, TaskRequest,
    default_invoke_task, handler_fn,
};
