//! One module per AWS service: the typed properties of each resource type the shop uses, and the
//! attributes its handle gives.

pub mod apigateway;
pub mod dynamodb;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod stepfunctions;
