//! Every DynamoDB call the functions make. Each operation is idempotent: the workflow retries freely.

use crate::error::ShopError;
use crate::keys::{self, attr};
use crate::model::{self, Item, Order, Reservation, number, string};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use shop_contract::{
    Cancellation, LineRequest, OrderOutcome, OrderRequest, OrderStatus, StockCheck,
    StockReservation,
};
use std::time::Duration;

/// How often a transaction cancelled only by `TransactionConflict` (another transaction touching the same
/// item at the same moment, which real DynamoDB reports instead of waiting) is tried again.
const TRANSACTION_ATTEMPTS: u32 = 8;
const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// The table and the client to reach it: what every handler needs.
#[derive(Debug, Clone)]
pub struct Shop {
    client: Client,
    table: String,
}

/// What `create-store-item` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateItemOutcome {
    Created,
    /// The item exists already; its stock was left as it is.
    AlreadyExists {
        stock: u64,
    },
}

fn sdk_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> ShopError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    ShopError::storage(operation, DisplayErrorContext(&error))
}

fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> ShopError {
    ShopError::storage("build request", error)
}

fn failed(reason: Option<&CancellationReason>) -> bool {
    reason.and_then(CancellationReason::code) == Some(CONDITION_FAILED)
}

fn describe(reasons: &[CancellationReason]) -> String {
    reasons
        .iter()
        .map(|reason| reason.code().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Outcome of one TransactWriteItems attempt, with the cancellation reasons when it was cancelled.
enum TransactionResult {
    Committed,
    Cancelled(Vec<CancellationReason>),
}

/// Backoff before retrying a conflicting transaction: grows, with jitter so that racing callers spread.
fn conflict_backoff(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    let base_ms = 5u64 << attempt.min(6);
    Duration::from_millis(base_ms + u64::from(nanos % 7) * base_ms / 7)
}

impl Shop {
    pub fn new(client: Client, table: impl Into<String>) -> Shop {
        Shop {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Runs one transaction, retrying it while the only reason it was cancelled is a conflict.
    async fn transact(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<TransactionResult, ShopError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match sent {
                Ok(_) => return Ok(TransactionResult::Committed),
                Err(error) => error,
            };
            let reasons = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    cancelled.cancellation_reasons().to_vec()
                }
                _ => return Err(sdk_error(operation, error)),
            };
            let conflict = reasons
                .iter()
                .any(|reason| reason.code() == Some(TRANSACTION_CONFLICT));
            let condition = reasons.iter().any(|reason| failed(Some(reason)));
            if conflict && attempt < TRANSACTION_ATTEMPTS {
                tracing::debug!(operation, attempt, "transaction conflict, retrying");
                tokio::time::sleep(conflict_backoff(attempt)).await;
                continue;
            }
            if reasons.is_empty() || !condition {
                return Err(ShopError::storage(
                    operation,
                    format!(
                        "transaction cancelled [{}]: {}",
                        describe(&reasons),
                        DisplayErrorContext(&error)
                    ),
                ));
            }
            return Ok(TransactionResult::Cancelled(reasons));
        }
    }

    /// One record by key, strongly consistent.
    async fn read(&self, key: keys::Key) -> Result<Option<Item>, ShopError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| sdk_error("GetItem", error))?;
        Ok(output.item)
    }

    /// Stock of a product, `None` when it does not exist. Strongly consistent.
    pub async fn stock(&self, item_id: &str) -> Result<Option<u64>, ShopError> {
        let item = self.read(keys::store_item(item_id)).await?;
        item.as_ref().map(model::stock_of).transpose()
    }

    /// Creates a product with its initial stock, only if it does not exist (see the crate docs for why an
    /// existing product's stock is never overwritten).
    pub async fn create_store_item(
        &self,
        item_id: &str,
        stock: u64,
    ) -> Result<CreateItemOutcome, ShopError> {
        let mut item = keys::store_item(item_id);
        item.insert(attr::STOCK.to_string(), number(stock));
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(CreateItemOutcome::Created),
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(existing)) => {
                    let stock = match existing.item() {
                        Some(item) => model::stock_of(item)?,
                        None => self.stock(item_id).await?.unwrap_or(0),
                    };
                    Ok(CreateItemOutcome::AlreadyExists { stock })
                }
                _ => Err(sdk_error("PutItem", error)),
            },
        }
    }

    /// `is-item-in-stock`: reads, writes nothing.
    pub async fn check_stock(&self, line: &LineRequest) -> Result<StockCheck, ShopError> {
        model::validate_line_request(line)?;
        let available =
            self.stock(&line.item_id)
                .await?
                .ok_or_else(|| ShopError::ItemNotFound {
                    item_id: line.item_id.clone(),
                })?;
        if available < line.quantity {
            return Err(ShopError::OutOfStock {
                item_id: line.item_id.clone(),
                requested: line.quantity,
                available,
            });
        }
        Ok(StockCheck {
            item_id: line.item_id.clone(),
            requested: line.quantity,
            available,
        })
    }

    /// `update-item-stock`: in ONE transaction, decrement the stock if enough remains, write the line's
    /// reservation marker if absent, and check the order is not cancelled (the fence).
    pub async fn reserve_line(&self, line: &LineRequest) -> Result<StockReservation, ShopError> {
        model::validate_line_request(line)?;
        let marker = Reservation {
            order_id: line.order_id.clone(),
            line_index: line.line_index,
            item_id: line.item_id.clone(),
            quantity: line.quantity,
        };
        let decrement = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::store_item(&line.item_id)))
            .update_expression("SET #stock = #stock - :quantity")
            .condition_expression("attribute_exists(#pk) AND #stock >= :quantity")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#stock", attr::STOCK)
            .expression_attribute_values(":quantity", number(line.quantity))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        let write_marker = Put::builder()
            .table_name(&self.table)
            .set_item(Some(marker.to_item()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        let fence = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keys::order(&line.order_id)))
            .condition_expression("attribute_not_exists(#status) OR #status <> :cancelled")
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_values(":cancelled", string(OrderStatus::Cancelled.as_str()))
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().update(decrement).build(),
            TransactWriteItem::builder().put(write_marker).build(),
            TransactWriteItem::builder().condition_check(fence).build(),
        ];
        let reservation = |applied| StockReservation {
            order_id: line.order_id.clone(),
            line_index: line.line_index,
            item_id: line.item_id.clone(),
            quantity: line.quantity,
            applied,
        };
        let reasons = match self.transact("TransactWriteItems", items).await? {
            TransactionResult::Committed => {
                tracing::info!(order_id = %line.order_id, line_index = line.line_index,
                    item_id = %line.item_id, quantity = line.quantity, "stock reserved");
                return Ok(reservation(true));
            }
            TransactionResult::Cancelled(reasons) => reasons,
        };
        if failed(reasons.get(2)) {
            return Err(ShopError::OrderCancelled {
                order_id: line.order_id.clone(),
            });
        }
        if failed(reasons.get(1)) {
            let existing = match reasons.get(1).and_then(CancellationReason::item) {
                Some(item) => Some(Reservation::from_item(item)?),
                None => None,
            };
            if let Some(existing) = existing
                && (existing.item_id != line.item_id || existing.quantity != line.quantity)
            {
                return Err(ShopError::OrderConflict {
                    order_id: line.order_id.clone(),
                });
            }
            tracing::info!(order_id = %line.order_id, line_index = line.line_index,
                "line already reserved by an earlier attempt");
            return Ok(reservation(false));
        }
        if failed(reasons.first()) {
            return Err(match reasons.first().and_then(CancellationReason::item) {
                None => ShopError::ItemNotFound {
                    item_id: line.item_id.clone(),
                },
                Some(item) => ShopError::OutOfStock {
                    item_id: line.item_id.clone(),
                    requested: line.quantity,
                    available: model::stock_of(item)?,
                },
            });
        }
        Err(ShopError::storage(
            "TransactWriteItems",
            format!("unexpected cancellation [{}]", describe(&reasons)),
        ))
    }

    /// Reads an order. Strongly consistent.
    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, ShopError> {
        let item = self.read(keys::order(order_id)).await?;
        item.as_ref().map(Order::from_item).transpose()
    }

    /// `create-order`: writes the order PENDING under the workflow's id, only if absent.
    pub async fn create_order(&self, request: &OrderRequest) -> Result<OrderOutcome, ShopError> {
        model::validate_order_request(request)?;
        let order = Order {
            order_id: request.order_id.clone(),
            status: OrderStatus::Pending,
            lines: request.lines.clone(),
        };
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(order.to_item()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match sent {
            Ok(_) => {
                tracing::info!(order_id = %order.order_id, lines = order.lines.len(), "order created");
                return Ok(OrderOutcome {
                    order_id: order.order_id,
                    status: OrderStatus::Pending,
                });
            }
            Err(error) => error,
        };
        let existing = match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(failure)) => match failure.item() {
                Some(item) => Order::from_item(item)?,
                None => self.order(&order.order_id).await?.ok_or_else(|| {
                    ShopError::storage("PutItem", "condition failed but the order is absent")
                })?,
            },
            _ => return Err(sdk_error("PutItem", error)),
        };
        if existing.status == OrderStatus::Cancelled {
            return Err(ShopError::OrderCancelled {
                order_id: existing.order_id,
            });
        }
        if existing.lines != order.lines {
            return Err(ShopError::OrderConflict {
                order_id: existing.order_id,
            });
        }
        tracing::info!(order_id = %existing.order_id, status = existing.status.as_str(),
            "order already created by an earlier attempt");
        Ok(OrderOutcome {
            order_id: existing.order_id,
            status: existing.status,
        })
    }

    /// `confirm-order`: PENDING → CONFIRMED, in one transaction that also checks that every line's
    /// reservation marker exists, so an order can only be confirmed when all its lines were decremented.
    pub async fn confirm_order(&self, order_id: &str) -> Result<OrderOutcome, ShopError> {
        model::validate_order_id(order_id)?;
        let outcome = |status| OrderOutcome {
            order_id: order_id.to_string(),
            status,
        };
        let order = self.order(order_id).await?.ok_or_else(|| {
            ShopError::InvalidInput(format!(
                "order '{order_id}' does not exist: create-order must run before confirm-order"
            ))
        })?;
        match order.status {
            OrderStatus::Cancelled => {
                return Err(ShopError::OrderCancelled {
                    order_id: order_id.to_string(),
                });
            }
            OrderStatus::Confirmed => return Ok(outcome(OrderStatus::Confirmed)),
            OrderStatus::Pending => {}
        }
        let confirm = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::order(order_id)))
            .update_expression("SET #status = :confirmed")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_values(":confirmed", string(OrderStatus::Confirmed.as_str()))
            .expression_attribute_values(":pending", string(OrderStatus::Pending.as_str()))
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().update(confirm).build()];
        for line_index in 0..order.lines.len() {
            let line_index = u32::try_from(line_index)
                .map_err(|_| ShopError::storage("confirm", "too many lines"))?;
            let reserved = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(keys::reservation(order_id, line_index)))
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK)
                .build()
                .map_err(build_error)?;
            items.push(
                TransactWriteItem::builder()
                    .condition_check(reserved)
                    .build(),
            );
        }
        let reasons = match self.transact("TransactWriteItems", items).await? {
            TransactionResult::Committed => {
                tracing::info!(order_id, "order confirmed");
                return Ok(outcome(OrderStatus::Confirmed));
            }
            TransactionResult::Cancelled(reasons) => reasons,
        };
        if failed(reasons.first()) {
            // The status changed between the read and the transaction: a concurrent confirm or cancel.
            return match self.order(order_id).await?.map(|order| order.status) {
                Some(OrderStatus::Confirmed) => Ok(outcome(OrderStatus::Confirmed)),
                Some(OrderStatus::Cancelled) => Err(ShopError::OrderCancelled {
                    order_id: order_id.to_string(),
                }),
                other => Err(ShopError::storage(
                    "TransactWriteItems",
                    format!("order status condition failed, status now {other:?}"),
                )),
            };
        }
        let unreserved: Vec<usize> = reasons
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, reason)| failed(Some(reason)))
            .map(|(index, _)| index - 1)
            .collect();
        Err(ShopError::InvalidInput(format!(
            "order '{order_id}' cannot be confirmed: lines {unreserved:?} were not reserved \
             (update-item-stock must succeed for every line first)"
        )))
    }

    /// Every reservation marker of an order. Strongly consistent.
    pub async fn reservations(&self, order_id: &str) -> Result<Vec<Reservation>, ShopError> {
        let mut found = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_values(":pk", string(&keys::reservation_partition(order_id)))
                .consistent_read(true)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|error| sdk_error("Query", error))?;
            for item in page.items() {
                found.push(Reservation::from_item(item)?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start_key = Some(key.clone()),
                _ => return Ok(found),
            }
        }
    }

    /// `cancel-order`: raise the fence (order CANCELLED, created if absent), then give back exactly what
    /// each reservation marker records, deleting the marker in the same transaction.
    pub async fn cancel_order(&self, request: &OrderRequest) -> Result<Cancellation, ShopError> {
        model::validate_order_id(&request.order_id)?;
        if !request.lines.is_empty() {
            model::validate_order_request(request)?;
        }
        let order_id = &request.order_id;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::order(order_id)))
            .update_expression(
                "SET #status = :cancelled, #lines = if_not_exists(#lines, :lines), \
                 #orderId = if_not_exists(#orderId, :orderId)",
            )
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#lines", attr::LINES)
            .expression_attribute_names("#orderId", attr::ORDER_ID)
            .expression_attribute_values(":cancelled", string(OrderStatus::Cancelled.as_str()))
            .expression_attribute_values(":lines", model::lines_to_attribute(&request.lines))
            .expression_attribute_values(":orderId", string(order_id))
            .send()
            .await
            .map_err(|error| sdk_error("UpdateItem", error))?;
        tracing::info!(order_id = %order_id, "order cancelled (fence raised)");

        let mut restored_lines = Vec::new();
        for marker in self.reservations(order_id).await? {
            if self.restore(&marker).await? {
                restored_lines.push(marker.line_index);
            }
        }
        restored_lines.sort_unstable();
        tracing::info!(order_id = %order_id, ?restored_lines, "reservations restored");
        Ok(Cancellation {
            order_id: order_id.clone(),
            status: OrderStatus::Cancelled,
            restored_lines,
        })
    }

    /// Deletes one marker and gives its quantity back, atomically. `false` when the marker was already
    /// gone (a concurrent cancel restored it).
    async fn restore(&self, marker: &Reservation) -> Result<bool, ShopError> {
        let delete_marker = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keys::reservation(&marker.order_id, marker.line_index)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .build()
            .map_err(build_error)?;
        let give_back = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::store_item(&marker.item_id)))
            .update_expression("SET #stock = if_not_exists(#stock, :zero) + :quantity")
            .expression_attribute_names("#stock", attr::STOCK)
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":quantity", number(marker.quantity))
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete_marker).build(),
            TransactWriteItem::builder().update(give_back).build(),
        ];
        match self.transact("TransactWriteItems", items).await? {
            TransactionResult::Committed => Ok(true),
            TransactionResult::Cancelled(reasons) if failed(reasons.first()) => Ok(false),
            TransactionResult::Cancelled(reasons) => Err(ShopError::storage(
                "TransactWriteItems",
                format!("unexpected cancellation [{}]", describe(&reasons)),
            )),
        }
    }
}
