//! The shop's domain: table key design, item and order models, DynamoDB calls, errors
