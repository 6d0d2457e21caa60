//! Static validation of a definition: everything that can be known wrong before running it.
//!
//! [`validate`] walks the whole machine, Parallel branches and Map item processors included, and
//! returns every problem it finds (not just the first). Each [`ValidationError`] names where it is —
//! the state's path through the nesting, e.g. `PlaceOrder/branch[0]/ReserveStock/ItemProcessor/UpdateItemStock`
//! (a scope-level problem names the scope: `PlaceOrder/branch[0]`, or `(state machine)` at top
//! level) — and the [`Rule`] it breaks. The rules are listed on [`Rule`]; each has a failing case in
//! `asl/tests/invalid/`.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;

use indexmap::IndexMap;
use jsonpath::{JsonPath, ReferencePath, Root};
use serde_json::Value;

use crate::choice::{Condition, Operand, Operator};
use crate::intrinsic;
use crate::model::*;
use crate::payload;

/// What the caller knows about the world the definition runs in.
///
/// Function checking: by default Task resources are not checked. Once any function is declared
/// ([`ValidationContext::with_function`], [`ValidationContext::with_substitutions`]) or
/// [`ValidationContext::require_known_functions`] is called, every Task that invokes a Lambda
/// function must name a declared one, compared as exact strings:
/// - `"Resource": "arn:aws:lambda:...:function:name"` or `"Resource": "${Substitution}"`: the Resource;
/// - `"Resource": "arn:aws:states:::lambda:invoke"` (and `.waitForTaskToken`): `Parameters.FunctionName`
///   (a dynamic `FunctionName.$` cannot be checked statically and is accepted).
///
/// Other service integrations (`arn:aws:states:::dynamodb:putItem`, ...) and activities are not
/// checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationContext {
    known_functions: Option<BTreeSet<String>>,
}

impl ValidationContext {
    /// A context that does not check Task resources.
    pub fn new() -> Self {
        Self::default()
    }

    /// Check Task resources, even with no function declared (then every Lambda task is an error).
    pub fn require_known_functions(mut self) -> Self {
        self.known_functions.get_or_insert_with(BTreeSet::new);
        self
    }

    /// Declares a function reference exactly as the definition writes it: a function ARN, or a
    /// `${Name}` DefinitionSubstitutions token.
    pub fn with_function(mut self, reference: impl Into<String>) -> Self {
        self.known_functions
            .get_or_insert_with(BTreeSet::new)
            .insert(reference.into());
        self
    }

    pub fn with_functions<I, S>(self, references: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        references
            .into_iter()
            .fold(self, |context, reference| context.with_function(reference))
    }

    /// Declares DefinitionSubstitutions keys (`CreateOrderFunctionArn`): the definition refers to
    /// them as `${CreateOrderFunctionArn}`.
    pub fn with_substitutions<I, S>(self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        keys.into_iter().fold(self, |context, key| {
            context.with_function(format!("${{{}}}", key.as_ref()))
        })
    }

    /// Whether Task resources are checked.
    pub fn checks_functions(&self) -> bool {
        self.known_functions.is_some()
    }

    /// Whether `reference` is a declared function (always true when functions are not checked).
    pub fn knows_function(&self, reference: &str) -> bool {
        self.known_functions
            .as_ref()
            .is_none_or(|known| known.contains(reference))
    }
}

/// The rules [`validate`] checks. `Display` gives a short kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A machine, branch or item processor has states, and its `StartAt` is one of them.
    StartAtExists,
    /// Every `Next`, `Default` and Catch `Next` names a state of the same scope.
    TargetExists,
    /// Every state can be reached from its scope's `StartAt` (by Next, Default, choices, Catch).
    Reachable,
    /// From every reachable state some path reaches a Succeed, a Fail or an `End: true`.
    CanTerminate,
    /// Task, Map, Parallel, Pass and Wait have exactly one of `Next` and `"End": true`.
    NextXorEnd,
    /// `States.ALL` appears alone in its `ErrorEquals`, in the last retrier/catcher.
    StatesAllLast,
    /// `ErrorEquals` is not empty; retrier numbers are in range (`BackoffRate` ≥ 1, ...).
    RetryCatchFields,
    /// `InputPath`, `OutputPath` and `.$` paths are JSONPath.
    PathSyntax,
    /// `ResultPath`, `ItemsPath`, Choice `Variable` and the `...Path` fields are reference paths
    /// (and `ResultPath` does not write into `$$`).
    ReferencePath,
    /// Each `.$` value of a payload template is a path or a valid intrinsic function call.
    PayloadTemplate,
    /// A Task invokes a function the [`ValidationContext`] declares.
    KnownFunction,
    /// Choice rules: at least one; one operator each; operands of the right type; `Next` on
    /// top-level rules only; timestamps in RFC 3339.
    ChoiceRule,
    /// Fail has at most one of `Error`/`ErrorPath` and of `Cause`/`CausePath`.
    FailFields,
    /// Wait has exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`.
    WaitFields,
    /// Map: one of `ItemProcessor`/`Iterator`, at most one of `ItemSelector`/`Parameters`,
    /// `MaxConcurrency` not negative, tolerated failures in range, at most one of each value/`...Path`
    /// pair. Parallel: at least one branch.
    MapParallelFields,
    /// Task: at most one of `TimeoutSeconds`/`TimeoutSecondsPath` and of the heartbeat pair;
    /// timeouts positive; `HeartbeatSeconds` < `TimeoutSeconds`.
    TaskTimeouts,
    /// State names are unique in the whole machine and at most 80 characters.
    StateName,
    /// `QueryLanguage: JSONata` is not supported.
    JsonataUnsupported,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::StartAtExists => "start-at-exists",
            Rule::TargetExists => "target-exists",
            Rule::Reachable => "reachable",
            Rule::CanTerminate => "can-terminate",
            Rule::NextXorEnd => "next-xor-end",
            Rule::StatesAllLast => "states-all-last",
            Rule::RetryCatchFields => "retry-catch-fields",
            Rule::PathSyntax => "path-syntax",
            Rule::ReferencePath => "reference-path",
            Rule::PayloadTemplate => "payload-template",
            Rule::KnownFunction => "known-function",
            Rule::ChoiceRule => "choice-rule",
            Rule::FailFields => "fail-fields",
            Rule::WaitFields => "wait-fields",
            Rule::MapParallelFields => "map-parallel-fields",
            Rule::TaskTimeouts => "task-timeouts",
            Rule::StateName => "state-name",
            Rule::JsonataUnsupported => "jsonata-unsupported",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem: where, which rule, and a message saying what is wrong.
///
/// `Display`: ``PlaceOrder/branch[0]/ReserveStock: `Next` names `Nowhere`, which is not a state of this scope [target-exists]``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message} [{rule}]", if state.is_empty() { "(state machine)" } else { state.as_str() })]
pub struct ValidationError {
    /// The state's path (`Outer/branch[1]/Inner`, `Outer/ItemProcessor/Inner`), or the scope's for
    /// scope-level problems; empty for the top level.
    pub state: String,
    pub rule: Rule,
    pub message: String,
}

/// Checks `machine` against every [`Rule`]; `Err` holds all the problems found, in definition order.
pub fn validate(
    machine: &StateMachine,
    context: &ValidationContext,
) -> Result<(), Vec<ValidationError>> {
    let mut validator = Validator {
        context,
        errors: Vec::new(),
        seen_names: HashMap::new(),
    };
    if machine.query_language == Some(QueryLanguage::Jsonata) {
        validator.error(
            "",
            Rule::JsonataUnsupported,
            "`QueryLanguage: JSONata` is not supported; use JSONPath",
        );
    }
    if machine.timeout_seconds == Some(0) {
        validator.error("", Rule::TaskTimeouts, "`TimeoutSeconds` must be positive");
    }
    validator.scope("", &machine.start_at, &machine.states);
    if validator.errors.is_empty() {
        Ok(())
    } else {
        Err(validator.errors)
    }
}

struct Validator<'c> {
    context: &'c ValidationContext,
    errors: Vec<ValidationError>,
    /// State name → the path where it was first seen.
    seen_names: HashMap<String, String>,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Where a state can go next in its scope, with the field that says so.
fn edges(state: &State) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    if let Some((Some(next), _)) = state.next_and_end() {
        out.push(("`Next`".to_string(), next));
    }
    if let State::Choice(choice) = state {
        for (i, rule) in choice.choices.iter().enumerate() {
            if let Some(next) = &rule.next {
                out.push((format!("`Choices[{i}].Next`"), next.as_str()));
            }
        }
        if let Some(default) = &choice.default {
            out.push(("`Default`".to_string(), default.as_str()));
        }
    }
    for (i, catcher) in state.catchers().iter().enumerate() {
        out.push((format!("`Catch[{i}].Next`"), catcher.next.as_str()));
    }
    out
}

fn is_terminal(state: &State) -> bool {
    match state {
        State::Succeed(_) | State::Fail(_) => true,
        other => matches!(other.next_and_end(), Some((_, Some(true)))),
    }
}

impl Validator<'_> {
    fn error(&mut self, state: &str, rule: Rule, message: impl Into<String>) {
        self.errors.push(ValidationError {
            state: state.to_string(),
            rule,
            message: message.into(),
        });
    }

    fn scope(&mut self, prefix: &str, start_at: &str, states: &IndexMap<String, State>) {
        if states.is_empty() {
            self.error(prefix, Rule::StartAtExists, "`States` is empty");
            return;
        }
        if !states.contains_key(start_at) {
            self.error(
                prefix,
                Rule::StartAtExists,
                format!("`StartAt` names `{start_at}`, which is not a state of this scope"),
            );
        }
        for (name, state) in states {
            self.state(prefix, name, state, states);
        }

        // Reachability from StartAt.
        let mut reached: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = VecDeque::new();
        if states.contains_key(start_at) {
            reached.insert(start_at);
            queue.push_back(start_at);
        }
        while let Some(name) = queue.pop_front() {
            for (_, target) in edges(&states[name]) {
                if states.contains_key(target) && reached.insert(target) {
                    queue.push_back(target);
                }
            }
        }
        for name in states.keys() {
            if !reached.contains(name.as_str()) {
                self.error(
                    &join(prefix, name),
                    Rule::Reachable,
                    format!("no path from `StartAt` (`{start_at}`) reaches this state"),
                );
            }
        }

        // Termination: walk backwards from the terminal states.
        let mut predecessors: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, state) in states {
            for (_, target) in edges(state) {
                predecessors.entry(target).or_default().push(name);
            }
        }
        let mut can_end: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = states
            .iter()
            .filter(|(_, state)| is_terminal(state))
            .map(|(name, _)| name.as_str())
            .collect();
        can_end.extend(queue.iter().copied());
        while let Some(name) = queue.pop_front() {
            for &previous in predecessors.get(name).into_iter().flatten() {
                if can_end.insert(previous) {
                    queue.push_back(previous);
                }
            }
        }
        for name in states.keys() {
            if reached.contains(name.as_str()) && !can_end.contains(name.as_str()) {
                self.error(
                    &join(prefix, name),
                    Rule::CanTerminate,
                    "no path from this state reaches a Succeed, a Fail or an `End: true`: it can only loop",
                );
            }
        }
    }

    fn state(&mut self, prefix: &str, name: &str, state: &State, scope: &IndexMap<String, State>) {
        let path = join(prefix, name);
        if name.chars().count() > 80 {
            self.error(
                &path,
                Rule::StateName,
                "a state name has at most 80 characters",
            );
        }
        match self.seen_names.get(name) {
            Some(first) => {
                let message = format!(
                    "the state name `{name}` is already used by `{first}`; names are unique in the whole machine"
                );
                self.error(&path, Rule::StateName, message);
            }
            None => {
                self.seen_names.insert(name.to_string(), path.clone());
            }
        }
        if state.query_language() == Some(QueryLanguage::Jsonata) {
            self.error(
                &path,
                Rule::JsonataUnsupported,
                "`QueryLanguage: JSONata` is not supported; use JSONPath",
            );
        }

        if let Some((next, end)) = state.next_and_end() {
            match (next, end) {
                (Some(_), Some(true)) => self.error(
                    &path,
                    Rule::NextXorEnd,
                    "has both `Next` and `\"End\": true`",
                ),
                (None, None | Some(false)) => self.error(
                    &path,
                    Rule::NextXorEnd,
                    "has neither `Next` nor `\"End\": true`",
                ),
                _ => {}
            }
        }
        for (field, target) in edges(state) {
            if !scope.contains_key(target) {
                self.error(
                    &path,
                    Rule::TargetExists,
                    format!("{field} names `{target}`, which is not a state of this scope"),
                );
            }
        }

        self.general_path(&path, "InputPath", state.input_path().value());
        self.general_path(&path, "OutputPath", state.output_path().value());
        if let Some(result_path) = state.result_path() {
            self.result_path(&path, "ResultPath", result_path);
        }
        self.retry_catch(&path, state);

        match state {
            State::Task(task) => self.task(&path, task),
            State::Map(map) => self.map(&path, map),
            State::Parallel(parallel) => {
                self.template(&path, "Parameters", parallel.parameters.as_ref());
                self.template(&path, "ResultSelector", parallel.result_selector.as_ref());
                if parallel.branches.is_empty() {
                    self.error(
                        &path,
                        Rule::MapParallelFields,
                        "`Branches` must not be empty",
                    );
                }
                for (i, branch) in parallel.branches.iter().enumerate() {
                    self.scope(
                        &format!("{path}/branch[{i}]"),
                        &branch.start_at,
                        &branch.states,
                    );
                }
            }
            State::Pass(pass) => self.template(&path, "Parameters", pass.parameters.as_ref()),
            State::Choice(choice) => self.choice(&path, choice),
            State::Wait(wait) => self.wait(&path, wait),
            State::Fail(fail) => self.fail(&path, fail),
            State::Succeed(_) => {}
        }
    }

    fn general_path(&mut self, path: &str, field: &str, value: Option<&String>) {
        if let Some(text) = value
            && let Err(e) = JsonPath::parse(text)
        {
            self.error(path, Rule::PathSyntax, format!("`{field}`: {e}"));
        }
    }

    fn reference_path(
        &mut self,
        path: &str,
        field: &str,
        value: Option<&str>,
    ) -> Option<ReferencePath> {
        let text = value?;
        match ReferencePath::parse(text) {
            Ok(parsed) => Some(parsed),
            Err(e) => {
                self.error(
                    path,
                    Rule::ReferencePath,
                    format!("`{field}` must be a reference path: {e}"),
                );
                None
            }
        }
    }

    fn result_path(&mut self, path: &str, field: &str, value: &Nullable<String>) {
        if let Some(parsed) = self.reference_path(path, field, value.value().map(String::as_str))
            && parsed.root() == Root::Context
        {
            self.error(
                path,
                Rule::ReferencePath,
                format!("`{field}` cannot write into the context object (`$$`)"),
            );
        }
    }

    fn template(&mut self, path: &str, field: &str, template: Option<&Value>) {
        let Some(template) = template else { return };
        for dynamic in payload::dynamic_fields(template) {
            if let Err(e) = dynamic.parse() {
                let at = dynamic.pointer.trim_start_matches('/');
                self.error(
                    path,
                    Rule::PayloadTemplate,
                    format!("`{field}` at `{at}`: {e}"),
                );
            }
        }
    }

    fn retry_catch(&mut self, path: &str, state: &State) {
        let retriers: Vec<&Vec<String>> =
            state.retriers().iter().map(|r| &r.error_equals).collect();
        let catchers: Vec<&Vec<String>> =
            state.catchers().iter().map(|c| &c.error_equals).collect();
        for (field, lists) in [("Retry", retriers), ("Catch", catchers)] {
            let count = lists.len();
            for (i, errors) in lists.into_iter().enumerate() {
                if errors.is_empty() {
                    self.error(
                        path,
                        Rule::RetryCatchFields,
                        format!("`{field}[{i}].ErrorEquals` must not be empty"),
                    );
                }
                if errors.iter().any(|e| e == "States.ALL") {
                    if errors.len() > 1 {
                        self.error(
                            path,
                            Rule::StatesAllLast,
                            format!(
                                "`{field}[{i}]`: `States.ALL` must be alone in its `ErrorEquals`"
                            ),
                        );
                    }
                    if i + 1 != count {
                        self.error(
                            path,
                            Rule::StatesAllLast,
                            format!(
                                "`{field}[{i}]`: the `States.ALL` {} must be the last one",
                                if field == "Retry" {
                                    "retrier"
                                } else {
                                    "catcher"
                                }
                            ),
                        );
                    }
                }
            }
        }
        for (i, retrier) in state.retriers().iter().enumerate() {
            if retrier.interval_seconds == Some(0) {
                self.error(
                    path,
                    Rule::RetryCatchFields,
                    format!("`Retry[{i}].IntervalSeconds` must be positive"),
                );
            }
            if let Some(rate) = retrier.backoff_rate.as_ref().and_then(|n| n.as_f64())
                && rate < 1.0
            {
                self.error(
                    path,
                    Rule::RetryCatchFields,
                    format!("`Retry[{i}].BackoffRate` must be at least 1.0, found {rate}"),
                );
            }
            if retrier.max_delay_seconds == Some(0) {
                self.error(
                    path,
                    Rule::RetryCatchFields,
                    format!("`Retry[{i}].MaxDelaySeconds` must be positive"),
                );
            }
        }
        for (i, catcher) in state.catchers().iter().enumerate() {
            self.result_path(
                path,
                &format!("Catch[{i}].ResultPath"),
                &catcher.result_path,
            );
        }
    }

    fn task(&mut self, path: &str, task: &Task) {
        self.template(path, "Parameters", task.parameters.as_ref());
        self.template(path, "ResultSelector", task.result_selector.as_ref());
        self.template(path, "Credentials", task.credentials.as_ref());
        self.reference_path(
            path,
            "TimeoutSecondsPath",
            task.timeout_seconds_path.as_deref(),
        );
        self.reference_path(
            path,
            "HeartbeatSecondsPath",
            task.heartbeat_seconds_path.as_deref(),
        );
        if task.timeout_seconds.is_some() && task.timeout_seconds_path.is_some() {
            self.error(
                path,
                Rule::TaskTimeouts,
                "has both `TimeoutSeconds` and `TimeoutSecondsPath`",
            );
        }
        if task.heartbeat_seconds.is_some() && task.heartbeat_seconds_path.is_some() {
            self.error(
                path,
                Rule::TaskTimeouts,
                "has both `HeartbeatSeconds` and `HeartbeatSecondsPath`",
            );
        }
        for (field, value) in [
            ("TimeoutSeconds", task.timeout_seconds),
            ("HeartbeatSeconds", task.heartbeat_seconds),
        ] {
            if value == Some(0) {
                self.error(
                    path,
                    Rule::TaskTimeouts,
                    format!("`{field}` must be positive"),
                );
            }
        }
        if let (Some(heartbeat), Some(timeout)) = (task.heartbeat_seconds, task.timeout_seconds)
            && heartbeat >= timeout
        {
            self.error(
                path,
                Rule::TaskTimeouts,
                format!("`HeartbeatSeconds` ({heartbeat}) must be smaller than `TimeoutSeconds` ({timeout})"),
            );
        }
        self.task_function(path, task);
    }

    fn task_function(&mut self, path: &str, task: &Task) {
        if !self.context.checks_functions() {
            return;
        }
        let resource = task.resource.as_str();
        if is_lambda_invoke(resource) {
            let parameters = task.parameters.as_ref().and_then(Value::as_object);
            match parameters.and_then(|p| p.get("FunctionName")) {
                Some(Value::String(name)) => {
                    if !self.context.knows_function(name) {
                        self.error(
                            path,
                            Rule::KnownFunction,
                            format!("`Parameters.FunctionName` `{name}` is not a known function"),
                        );
                    }
                }
                Some(_) => self.error(
                    path,
                    Rule::KnownFunction,
                    "`Parameters.FunctionName` must be a string",
                ),
                None if parameters.is_some_and(|p| p.contains_key("FunctionName.$")) => {}
                None => self.error(
                    path,
                    Rule::KnownFunction,
                    format!("`{resource}` needs `Parameters.FunctionName`"),
                ),
            }
        } else if is_function_reference(resource) && !self.context.knows_function(resource) {
            self.error(
                path,
                Rule::KnownFunction,
                format!("`Resource` `{resource}` is not a known function"),
            );
        }
    }

    fn map(&mut self, path: &str, map: &Map) {
        self.reference_path(path, "ItemsPath", map.items_path.as_deref());
        self.template(path, "ItemSelector", map.item_selector.as_ref());
        self.template(path, "Parameters", map.parameters.as_ref());
        self.template(path, "ResultSelector", map.result_selector.as_ref());
        if map.item_selector.is_some() && map.parameters.is_some() {
            self.error(
                path,
                Rule::MapParallelFields,
                "has both `ItemSelector` and its older form `Parameters`",
            );
        }
        for (field, value) in [
            ("MaxConcurrencyPath", &map.max_concurrency_path),
            (
                "ToleratedFailurePercentagePath",
                &map.tolerated_failure_percentage_path,
            ),
            (
                "ToleratedFailureCountPath",
                &map.tolerated_failure_count_path,
            ),
        ] {
            self.reference_path(path, field, value.as_deref());
        }
        let pairs = [
            (
                "MaxConcurrency",
                map.max_concurrency.is_some(),
                map.max_concurrency_path.is_some(),
            ),
            (
                "ToleratedFailurePercentage",
                map.tolerated_failure_percentage.is_some(),
                map.tolerated_failure_percentage_path.is_some(),
            ),
            (
                "ToleratedFailureCount",
                map.tolerated_failure_count.is_some(),
                map.tolerated_failure_count_path.is_some(),
            ),
        ];
        for (field, value, value_path) in pairs {
            if value && value_path {
                self.error(
                    path,
                    Rule::MapParallelFields,
                    format!("has both `{field}` and `{field}Path`"),
                );
            }
        }
        if let Some(max) = map.max_concurrency
            && max < 0
        {
            self.error(
                path,
                Rule::MapParallelFields,
                format!("`MaxConcurrency` must not be negative, found {max}"),
            );
        }
        if let Some(count) = map.tolerated_failure_count
            && count < 0
        {
            self.error(
                path,
                Rule::MapParallelFields,
                format!("`ToleratedFailureCount` must not be negative, found {count}"),
            );
        }
        if let Some(percentage) = map
            .tolerated_failure_percentage
            .as_ref()
            .and_then(|n| n.as_f64())
            && !(0.0..=100.0).contains(&percentage)
        {
            self.error(
                path,
                Rule::MapParallelFields,
                format!(
                    "`ToleratedFailurePercentage` must be between 0 and 100, found {percentage}"
                ),
            );
        }
        match (&map.item_processor, &map.iterator) {
            (Some(processor), None) => self.scope(
                &format!("{path}/ItemProcessor"),
                &processor.start_at,
                &processor.states,
            ),
            (None, Some(iterator)) => self.scope(
                &format!("{path}/Iterator"),
                &iterator.start_at,
                &iterator.states,
            ),
            (Some(_), Some(_)) => self.error(
                path,
                Rule::MapParallelFields,
                "has both `ItemProcessor` and its older form `Iterator`",
            ),
            (None, None) => self.error(
                path,
                Rule::MapParallelFields,
                "needs an `ItemProcessor` (or the older `Iterator`)",
            ),
        }
    }

    fn choice(&mut self, path: &str, choice: &Choice) {
        if choice.choices.is_empty() {
            self.error(path, Rule::ChoiceRule, "`Choices` must not be empty");
        }
        for (i, rule) in choice.choices.iter().enumerate() {
            let at = format!("Choices[{i}]");
            if rule.next.is_none() && !matches!(rule.condition, Condition::Malformed { .. }) {
                self.error(
                    path,
                    Rule::ChoiceRule,
                    format!("`{at}`: a top-level choice rule needs `Next`"),
                );
            }
            let mut problems = Vec::new();
            rule.condition.visit(&mut |condition| match condition {
                Condition::Malformed { reason, .. } => {
                    problems.push((Rule::ChoiceRule, reason.clone()));
                }
                Condition::Compare(comparison) => {
                    if let Err(e) = ReferencePath::parse(&comparison.variable) {
                        problems.push((
                            Rule::ReferencePath,
                            format!("`Variable` must be a reference path: {e}"),
                        ));
                    }
                    match &comparison.operand {
                        Operand::Path(operand) => {
                            if let Err(e) = ReferencePath::parse(operand) {
                                problems.push((
                                    Rule::ReferencePath,
                                    format!("`{}` must be a reference path: {e}", comparison.key()),
                                ));
                            }
                        }
                        Operand::String(text)
                            if is_timestamp_operator(comparison.operator) && !is_rfc3339(text) =>
                        {
                            problems.push((
                                Rule::ChoiceRule,
                                format!(
                                    "`{}`: `{text}` is not an RFC 3339 timestamp",
                                    comparison.key()
                                ),
                            ));
                        }
                        _ => {}
                    }
                }
                _ => {}
            });
            for (rule, message) in problems {
                self.error(path, rule, format!("`{at}`: {message}"));
            }
        }
    }

    fn wait(&mut self, path: &str, wait: &Wait) {
        let given: Vec<&str> = [
            ("Seconds", wait.seconds.is_some()),
            ("SecondsPath", wait.seconds_path.is_some()),
            ("Timestamp", wait.timestamp.is_some()),
            ("TimestampPath", wait.timestamp_path.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, present)| present.then_some(field))
        .collect();
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none".to_string()
            } else {
                given.join(", ")
            };
            self.error(
                path,
                Rule::WaitFields,
                format!("needs exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`; found {found}"),
            );
        }
        self.reference_path(path, "SecondsPath", wait.seconds_path.as_deref());
        self.reference_path(path, "TimestampPath", wait.timestamp_path.as_deref());
        if let Some(timestamp) = &wait.timestamp
            && !is_rfc3339(timestamp)
        {
            self.error(
                path,
                Rule::WaitFields,
                format!("`Timestamp` `{timestamp}` is not an RFC 3339 timestamp"),
            );
        }
    }

    fn fail(&mut self, path: &str, fail: &Fail) {
        for (value, value_path, field) in [
            (&fail.error, &fail.error_path, "Error"),
            (&fail.cause, &fail.cause_path, "Cause"),
        ] {
            if value.is_some() && value_path.is_some() {
                self.error(
                    path,
                    Rule::FailFields,
                    format!("has both `{field}` and `{field}Path`"),
                );
            }
            if let Some(text) = value_path {
                // A reference path, or an intrinsic function call.
                if text.trim_start().starts_with('$') {
                    self.reference_path(path, &format!("{field}Path"), Some(text));
                } else if let Err(e) = intrinsic::parse(text) {
                    self.error(
                        path,
                        Rule::FailFields,
                        format!("`{field}Path` must be a reference path or an intrinsic function call: {e}"),
                    );
                }
            }
        }
    }
}

fn is_timestamp_operator(operator: Operator) -> bool {
    operator.name().starts_with("Timestamp")
}

/// `arn:<partition>:states:::lambda:invoke` and its `.waitForTaskToken` form.
fn is_lambda_invoke(resource: &str) -> bool {
    let Some(rest) = resource.strip_prefix("arn:") else {
        return false;
    };
    let Some((_partition, service)) = rest.split_once(':') else {
        return false;
    };
    service == "states:::lambda:invoke" || service == "states:::lambda:invoke.waitForTaskToken"
}

/// A plain function ARN, or a `${Substitution}` standing for a resource.
fn is_function_reference(resource: &str) -> bool {
    let substitution = resource.starts_with("${") && resource.ends_with('}');
    let function_arn = resource.starts_with("arn:")
        && resource.contains(":lambda:")
        && resource.contains(":function:");
    substitution || function_arn
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as the spec requires (uppercase `T` and `Z`).
pub(crate) fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.len() == range.len() && s.iter().all(u8::is_ascii_digit))
    };
    let number = |range: std::ops::Range<usize>| -> u32 { text[range].parse().unwrap_or(u32::MAX) };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    if !((1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10))
        && number(11..13) <= 23
        && number(14..16) <= 59
        && number(17..19) <= 60)
    {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z'] => true,
        [b'+' | b'-', ..] => {
            i + 6 == b.len()
                && digits(i + 1..i + 3)
                && b[i + 3] == b':'
                && digits(i + 4..i + 6)
                && number(i + 1..i + 3) <= 23
                && number(i + 4..i + 6) <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_rfc3339;

    #[test]
    fn timestamps() {
        for good in [
            "2016-03-14T01:59:00Z",
            "2016-03-14T01:59:00.123Z",
            "2016-03-14T01:59:00+05:30",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "2016-03-14 01:59:00Z",
            "2016-03-14T01:59:00",
            "2016-03-14t01:59:00z",
            "2016-13-14T01:59:00Z",
            "2016-03-14T01:59:00.Z",
            "2016-03-14T01:59:00+0530",
            "tomorrow",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
