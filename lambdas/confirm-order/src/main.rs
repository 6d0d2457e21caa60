//! Lambda function confirm-order

fn main() {}
