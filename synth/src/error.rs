//! Everything that makes synth refuse to produce a template.

/// Why a template could not be produced. Each message names the place (resource, output, state) at fault.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("logical id `{0}` is invalid: CloudFormation wants 1 to 255 ASCII letters and digits")]
    InvalidLogicalId(String),
    #[error("logical id `{0}` is used twice")]
    DuplicateLogicalId(String),
    #[error(
        "{place} refers to `{logical_id}` through a handle of another template: add the resource to this \
         template and use the handle it returns"
    )]
    ForeignReference { place: String, logical_id: String },
    #[error("{place} refers to `{logical_id}`, which is not in the template")]
    DanglingReference { place: String, logical_id: String },
    #[error(
        "{place}: Fn::Sub string uses `${{{variable}}}`, which is neither a pseudo parameter nor one of \
         its variables (bind resources as typed variables): {template:?}"
    )]
    UnboundSubVariable {
        place: String,
        variable: String,
        template: String,
    },
    #[error("resource `{0}` depends on itself")]
    DependsOnItself(String),
    #[error("parameter `{0}` is declared but never used (cfn-lint would warn)")]
    UnusedParameter(String),
    #[error("condition `{0}` is declared but never used (cfn-lint would warn)")]
    UnusedCondition(String),
    #[error("the template has no resources (CloudFormation requires at least one)")]
    NoResources,
    #[error("state machine `{logical_id}`: {message}")]
    StateMachine { logical_id: String, message: String },
    #[error("IAM policy of `{logical_id}`: {message}")]
    Policy { logical_id: String, message: String },
    #[error("serializing {place}: {source}")]
    Serialize {
        place: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("writing YAML: {0}")]
    Yaml(String),
}
