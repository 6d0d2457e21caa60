//! Builds the shop stack as typed CloudFormation and prints the template.
//!
//! - [`Template`] holds parameters, conditions, resources and outputs; [`expr::Expr`] is a CloudFormation
//!   value (literal or intrinsic function).
//! - [`aws`] has one module per AWS service with the typed properties of each resource type; adding a
//!   resource returns a [`Handle`] whose methods give only that type's attributes.
//! - [`shop`] builds the shop stack; the `synth` binary prints it.
//!
//! Every reference is checked at synth: a handle from another template, a parameter or condition that is
//! never used, a `${Name}` in an `Fn::Sub` that is not bound, a state machine task pointing at a function
//! that is not in the template: each fails with a message naming the place.

pub mod aws;
pub mod error;
pub mod expr;
pub mod shop;
pub mod template;

pub use aws::{apigateway, dynamodb, iam, lambda, logs, stepfunctions};
pub use error::SynthError;
pub use expr::{Condition, Expr, Pseudo};
pub use template::{Handle, Output, Parameter, Policy, Resource, ResourceOptions, Template};

/// Output format of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

/// Builds the shop stack and renders it: what `synth` prints.
pub fn synthesize(options: &shop::ShopOptions, format: Format) -> Result<String, SynthError> {
    let template = shop::shop_template(options)?;
    match format {
        Format::Yaml => template.to_yaml(),
        Format::Json => template.to_json(),
    }
}
