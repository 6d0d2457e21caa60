//! A Step Functions interpreter: runs States Language definitions locally
