//! Creating the shop's table, for emulators and tests (the deployed table comes from the template).

use crate::error::ShopError;
use crate::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// Creates the table with the key schema of [`crate::keys`]: `PK` (S, hash) and `SK` (S, range),
/// on-demand billing, as the template declares it.
pub async fn create_shop_table(client: &Client, table: &str) -> Result<(), ShopError> {
    let build =
        |error: aws_sdk_dynamodb::error::BuildError| ShopError::storage("CreateTable", error);
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for (name, key_type) in [(keys::PK, KeyType::Hash), (keys::SK, KeyType::Range)] {
        request = request
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(key_type)
                    .build()
                    .map_err(build)?,
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build)?,
            );
    }
    request
        .send()
        .await
        .map_err(|error| ShopError::storage("CreateTable", DisplayErrorContext(&error)))?;
    Ok(())
}
