//! Runs the generated template offline: API Gateway, Step Functions, Lambda and DynamoDB on one machine

pub mod dynamodb;
pub mod lambda;
pub mod template;
