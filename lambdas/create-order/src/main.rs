//! Lambda function create-order

fn main() {}
