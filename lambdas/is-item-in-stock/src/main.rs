//! Lambda function `is-item-in-stock`. Step Functions task CheckStock: is there enough stock for one order line? Writes nothing.
//!
//! Input and output are the `shop-contract` types; errors carry the contract's `errorType`
//! (see `shop::handlers::is_item_in_stock`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let shop = shop::runtime::start().await?;
    let shop = &shop;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        shop::handlers::is_item_in_stock(shop, event.payload)
    }))
    .await
}
