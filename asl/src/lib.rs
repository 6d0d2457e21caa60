//! Amazon States Language: a typed model that reads back what it writes, and static validation.
//!
//! # The model ([`StateMachine`], [`State`], ...)
//!
//! Structs mirror the JSON of the [ASL spec](https://states-language.net/spec.html) field for field
//! (`PascalCase` names, states tagged by `"Type"`), with `serde`:
//!
//! - Reading then writing a definition gives the same JSON, field for field. State order is kept
//!   ([`indexmap::IndexMap`]); keys inside payload templates keep their order (the workspace enables
//!   `serde_json/preserve_order`). The model writes each object's fields in one fixed order (`Type`
//!   first, then as the structs declare them), so a byte-identical round trip holds for definitions
//!   written in that order (see `tests/valid/`).
//! - Unknown fields are errors (`deny_unknown_fields`) rather than silently dropped, and reading
//!   errors name the state: ``state `Check`: missing field `Resource` ``.
//! - [`Nullable`] keeps `"ResultPath": null` (discard the result) apart from an absent `ResultPath`
//!   (`$`); the same for `InputPath`/`OutputPath` (`null` means `{}`).
//! - Paths are kept as the text written (so they round-trip exactly and a bad path still reads and
//!   gets a validation error naming its state); parse them with [`jsonpath::JsonPath`] /
//!   [`jsonpath::ReferencePath`].
//! - Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, Pass `Result`) are
//!   `serde_json::Value`s; [`payload`] finds and parses their `.$` fields.
//! - Choice rules are typed ([`choice`]); a rule of the wrong shape reads as
//!   [`choice::Condition::Malformed`] so validation can report it.
//! - Numbers that may be fractional and are written either way (`BackoffRate`,
//!   `ToleratedFailurePercentage`, `Numeric*` operands) are `serde_json::Number`, kept as written.
//! - `Retry`/`Catch` are `Option<Vec<_>>` (an explicit `[]` survives); [`State::retriers`] and
//!   [`State::catchers`] give slices.
//!
//! ```
//! use asl::{State, StateMachine, Nullable};
//!
//! let json = r#"{
//!   "StartAt": "Check",
//!   "States": {
//!     "Check": {"Type": "Task", "Resource": "${CheckArn}", "ResultPath": null, "Next": "Done"},
//!     "Done": {"Type": "Succeed"}
//!   }
//! }"#;
//! let machine = StateMachine::from_json(json)?;
//! let State::Task(check) = &machine.states["Check"] else { panic!() };
//! assert_eq!(check.result_path, Nullable::Null);
//! assert_eq!(check.input_path, Nullable::Absent);
//! let back: serde_json::Value = serde_json::from_str(&machine.to_json())?;
//! assert_eq!(back, serde_json::from_str::<serde_json::Value>(json)?);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # Intrinsic functions ([`intrinsic`])
//!
//! [`intrinsic::parse`] turns `States.Format('{}', $.a)` into an [`intrinsic::Expr`] tree; the
//! module docs describe the tree and the escaping rules.
//!
//! # Validation ([`validate()`])
//!
//! [`validate()`] checks a definition statically and returns every problem, each naming the state by
//! its path through branches and item processors (`PlaceOrder/branch[0]/ReserveStock/ItemProcessor/
//! UpdateItemStock`) and the rule broken ([`ValidationError`], [`Rule`]). A [`ValidationContext`]
//! says which Lambda function references a Task may use.
//!
//! # Building in Rust ([`builder`])
//!
//! Constructors for the common states, so code that generates a definition stays short; they build
//! the same model structs (the model is the source of truth).

pub mod builder;
pub mod choice;
pub mod intrinsic;
mod model;
pub mod payload;
mod validate;

pub use choice::{ChoiceRule, Comparison, Condition, Operand, Operator};
pub use model::{
    Branch, Catcher, Choice, ExecutionType, Fail, ItemProcessor, JitterStrategy, Map, Nullable,
    Parallel, Pass, ProcessorConfig, ProcessorMode, QueryLanguage, Retrier, State, StateMachine,
    Succeed, Task, Transition, Wait,
};
pub use validate::{Rule, ValidationContext, ValidationError, validate};
