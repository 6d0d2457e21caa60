//! Constructors and chainable setters for writing a definition in Rust. They fill the model's public
//! fields and nothing else, so anything they do not cover can be set on the struct directly.
//!
//! ```
//! use asl::{Branch, Catcher, Choice, Condition, Fail, Map, Operand, Operator, Parallel, Pass, Retrier,
//!           StateMachine, Succeed, Task, validate, ValidationContext};
//! use serde_json::json;
//!
//! let check = Task::new("arn:aws:states:::lambda:invoke")
//!     .parameters(json!({"FunctionName": "${IsItemInStockArn}", "Payload.$": "$"}))
//!     .result_selector(json!({"inStock.$": "$.Payload.inStock"}))
//!     .retry(Retrier::new(["Lambda.TooManyRequestsException"]).max_attempts(3).backoff_rate(2))
//!     .end();
//! let machine = StateMachine::new("CheckStock")
//!     .state("CheckStock", Map::new(Branch::new("Check").state("Check", check))
//!         .items_path("$.order")
//!         .item_selector(json!({"item.$": "$$.Map.Item.Value"}))
//!         .max_concurrency(10)
//!         .result_path_null()
//!         .catch(Catcher::new(["States.ALL"], "Failed").result_path("$.error"))
//!         .next("Done"))
//!     .state("Done", Succeed::new())
//!     .state("Failed", Fail::new().error("OrderFailed"));
//! let context = ValidationContext::new().with_function("${IsItemInStockArn}");
//! assert_eq!(validate(&machine, &context), Ok(()));
//! ```

use indexmap::IndexMap;
use serde_json::{Number, Value};

use crate::choice::ChoiceRule;
use crate::model::*;

impl StateMachine {
    /// An empty machine starting at `start_at`; add states with [`StateMachine::state`].
    pub fn new(start_at: impl Into<String>) -> Self {
        StateMachine {
            comment: None,
            query_language: None,
            start_at: start_at.into(),
            states: IndexMap::new(),
            timeout_seconds: None,
            version: None,
        }
    }

    /// Adds (or replaces) a state; states are written in the order added.
    pub fn state(mut self, name: impl Into<String>, state: impl Into<State>) -> Self {
        self.states.insert(name.into(), state.into());
        self
    }

    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    pub fn timeout_seconds(mut self, seconds: u64) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }
}

impl Branch {
    pub fn new(start_at: impl Into<String>) -> Self {
        Branch {
            comment: None,
            start_at: start_at.into(),
            states: IndexMap::new(),
        }
    }

    pub fn state(mut self, name: impl Into<String>, state: impl Into<State>) -> Self {
        self.states.insert(name.into(), state.into());
        self
    }
}

macro_rules! into_state {
    ($($type:ident),*) => {$(
        impl From<$type> for State {
            fn from(state: $type) -> State {
                State::$type(state)
            }
        }
    )*};
}
into_state!(Task, Map, Parallel, Pass, Choice, Wait, Succeed, Fail);

macro_rules! common {
    ($type:ident) => {
        impl $type {
            pub fn comment(mut self, comment: impl Into<String>) -> Self {
                self.comment = Some(comment.into());
                self
            }

            pub fn input_path(mut self, path: impl Into<String>) -> Self {
                self.input_path = Nullable::Value(path.into());
                self
            }

            /// `"InputPath": null`: the state sees `{}`.
            pub fn input_path_null(mut self) -> Self {
                self.input_path = Nullable::Null;
                self
            }

            pub fn output_path(mut self, path: impl Into<String>) -> Self {
                self.output_path = Nullable::Value(path.into());
                self
            }

            /// `"OutputPath": null`: the state outputs `{}`.
            pub fn output_path_null(mut self) -> Self {
                self.output_path = Nullable::Null;
                self
            }
        }
    };
}

macro_rules! flow {
    ($type:ident) => {
        impl $type {
            /// Sets `Next` (and clears `End`).
            pub fn next(mut self, next: impl Into<String>) -> Self {
                self.next = Some(next.into());
                self.end = None;
                self
            }

            /// Sets `"End": true` (and clears `Next`).
            pub fn end(mut self) -> Self {
                self.end = Some(true);
                self.next = None;
                self
            }
        }
    };
}

macro_rules! result_path {
    ($type:ident) => {
        impl $type {
            pub fn result_path(mut self, path: impl Into<String>) -> Self {
                self.result_path = Nullable::Value(path.into());
                self
            }

            /// `"ResultPath": null`: discard the result, output the input.
            pub fn result_path_null(mut self) -> Self {
                self.result_path = Nullable::Null;
                self
            }
        }
    };
}

macro_rules! errors_handling {
    ($type:ident) => {
        impl $type {
            pub fn retry(mut self, retrier: Retrier) -> Self {
                self.retry.get_or_insert_with(Vec::new).push(retrier);
                self
            }

            pub fn catch(mut self, catcher: Catcher) -> Self {
                self.catch.get_or_insert_with(Vec::new).push(catcher);
                self
            }

            pub fn result_selector(mut self, template: Value) -> Self {
                self.result_selector = Some(template);
                self
            }
        }
    };
}

common!(Task);
common!(Map);
common!(Parallel);
common!(Pass);
common!(Choice);
common!(Wait);
common!(Succeed);
flow!(Task);
flow!(Map);
flow!(Parallel);
flow!(Pass);
flow!(Wait);
result_path!(Task);
result_path!(Map);
result_path!(Parallel);
result_path!(Pass);
errors_handling!(Task);
errors_handling!(Map);
errors_handling!(Parallel);

impl Task {
    pub fn new(resource: impl Into<String>) -> Self {
        Task {
            resource: resource.into(),
            ..Task::default()
        }
    }

    pub fn parameters(mut self, template: Value) -> Self {
        self.parameters = Some(template);
        self
    }

    pub fn timeout_seconds(mut self, seconds: u64) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }

    pub fn heartbeat_seconds(mut self, seconds: u64) -> Self {
        self.heartbeat_seconds = Some(seconds);
        self
    }
}

impl Map {
    /// An inline Map running `processor` for each item (`ItemProcessor` with
    /// `ProcessorConfig.Mode = INLINE`).
    pub fn new(processor: Branch) -> Self {
        Map {
            item_processor: Some(ItemProcessor {
                comment: processor.comment,
                processor_config: Some(ProcessorConfig {
                    mode: Some(ProcessorMode::Inline),
                    execution_type: None,
                }),
                start_at: processor.start_at,
                states: processor.states,
            }),
            ..Map::default()
        }
    }

    pub fn items_path(mut self, path: impl Into<String>) -> Self {
        self.items_path = Some(path.into());
        self
    }

    pub fn item_selector(mut self, template: Value) -> Self {
        self.item_selector = Some(template);
        self
    }

    pub fn max_concurrency(mut self, max: i64) -> Self {
        self.max_concurrency = Some(max);
        self
    }
}

impl Parallel {
    pub fn new() -> Self {
        Parallel::default()
    }

    pub fn branch(mut self, branch: Branch) -> Self {
        self.branches.push(branch);
        self
    }

    pub fn parameters(mut self, template: Value) -> Self {
        self.parameters = Some(template);
        self
    }
}

impl Pass {
    pub fn new() -> Self {
        Pass::default()
    }

    pub fn result(mut self, result: Value) -> Self {
        self.result = Some(result);
        self
    }

    pub fn parameters(mut self, template: Value) -> Self {
        self.parameters = Some(template);
        self
    }
}

impl Choice {
    pub fn new() -> Self {
        Choice::default()
    }

    /// Adds a top-level rule (build one with [`crate::Condition::then`]).
    pub fn when(mut self, rule: ChoiceRule) -> Self {
        self.choices.push(rule);
        self
    }

    /// Sets `Default`.
    pub fn otherwise(mut self, default: impl Into<String>) -> Self {
        self.default = Some(default.into());
        self
    }
}

impl Wait {
    pub fn seconds(seconds: u64) -> Self {
        Wait {
            seconds: Some(seconds),
            ..Wait::default()
        }
    }

    pub fn seconds_path(path: impl Into<String>) -> Self {
        Wait {
            seconds_path: Some(path.into()),
            ..Wait::default()
        }
    }

    pub fn timestamp(timestamp: impl Into<String>) -> Self {
        Wait {
            timestamp: Some(timestamp.into()),
            ..Wait::default()
        }
    }

    pub fn timestamp_path(path: impl Into<String>) -> Self {
        Wait {
            timestamp_path: Some(path.into()),
            ..Wait::default()
        }
    }
}

impl Succeed {
    pub fn new() -> Self {
        Succeed::default()
    }
}

impl Fail {
    pub fn new() -> Self {
        Fail::default()
    }

    pub fn error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }

    pub fn error_path(mut self, path: impl Into<String>) -> Self {
        self.error_path = Some(path.into());
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn cause_path(mut self, path: impl Into<String>) -> Self {
        self.cause_path = Some(path.into());
        self
    }

    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

impl Retrier {
    pub fn new<I, S>(errors: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Retrier {
            error_equals: errors.into_iter().map(Into::into).collect(),
            ..Retrier::default()
        }
    }

    pub fn interval_seconds(mut self, seconds: u64) -> Self {
        self.interval_seconds = Some(seconds);
        self
    }

    pub fn max_attempts(mut self, attempts: u64) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Accepts an integer (`2`, written `2`) or a float (`1.5`); a non-finite float is ignored.
    pub fn backoff_rate(mut self, rate: impl Into<BackoffRate>) -> Self {
        self.backoff_rate = rate.into().0;
        self
    }

    pub fn max_delay_seconds(mut self, seconds: u64) -> Self {
        self.max_delay_seconds = Some(seconds);
        self
    }

    pub fn jitter_strategy(mut self, strategy: JitterStrategy) -> Self {
        self.jitter_strategy = Some(strategy);
        self
    }
}

/// A `BackoffRate` argument for [`Retrier::backoff_rate`].
pub struct BackoffRate(Option<Number>);

impl From<u32> for BackoffRate {
    fn from(rate: u32) -> Self {
        BackoffRate(Some(Number::from(rate)))
    }
}

impl From<f64> for BackoffRate {
    fn from(rate: f64) -> Self {
        BackoffRate(Number::from_f64(rate))
    }
}

impl Catcher {
    pub fn new<I, S>(errors: I, next: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Catcher {
            comment: None,
            error_equals: errors.into_iter().map(Into::into).collect(),
            result_path: Nullable::Absent,
            next: next.into(),
        }
    }

    pub fn result_path(mut self, path: impl Into<String>) -> Self {
        self.result_path = Nullable::Value(path.into());
        self
    }

    pub fn result_path_null(mut self) -> Self {
        self.result_path = Nullable::Null;
        self
    }
}
