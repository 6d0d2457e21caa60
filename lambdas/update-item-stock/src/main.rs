//! Lambda function update-item-stock

fn main() {}
