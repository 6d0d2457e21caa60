//! Runs the generated template offline: API Gateway, Step Functions, Lambda and DynamoDB on one machine

pub mod apigw;
pub mod dynamodb;
pub mod iam;
pub mod lambda;
pub mod states;
pub mod template;
