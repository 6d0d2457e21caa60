//! Lambda function is-item-in-stock

fn main() {}
