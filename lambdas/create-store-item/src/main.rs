//! Lambda function create-store-item

fn main() {}
