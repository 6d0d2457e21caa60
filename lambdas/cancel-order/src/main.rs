//! Lambda function cancel-order

fn main() {}
