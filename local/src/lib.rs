//! Runs the generated template offline: API Gateway, Step Functions, Lambda and DynamoDB on one machine

pub mod template;
