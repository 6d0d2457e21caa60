//! JSONPath as AWS uses it: Step Functions paths and reference paths, API Gateway `$input.path`.
