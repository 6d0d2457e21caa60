//! Records as stored in the table, and the checks every contract payload passes before any call.

use crate::error::ShopError;
use crate::keys::{self, attr};
use aws_sdk_dynamodb::types::AttributeValue;
use shop_contract::{LineRequest, OrderLine, OrderRequest, OrderStatus, limits};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Longest accepted order id. Step Functions execution names (the workflow's order ids) have at most 80.
pub const MAX_ORDER_ID_CHARS: usize = 256;

/// Why an identifier is refused, or `None` when it is fine.
pub fn identifier_problem(value: &str, max_chars: usize) -> Option<String> {
    if value.is_empty() {
        return Some("must not be empty".to_string());
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Some(format!(
            "must have at most {max_chars} characters, has {chars}"
        ));
    }
    if value.chars().any(char::is_control) {
        return Some("must not contain control characters".to_string());
    }
    None
}

fn check_identifier(field: &str, value: &str, max_chars: usize) -> Result<(), ShopError> {
    match identifier_problem(value, max_chars) {
        Some(problem) => Err(ShopError::InvalidInput(format!("{field} {problem}"))),
        None => Ok(()),
    }
}

fn check_line_quantity(field: &str, quantity: u64) -> Result<(), ShopError> {
    if quantity == 0 || quantity > limits::MAX_LINE_QUANTITY {
        return Err(ShopError::InvalidInput(format!(
            "{field} must be between 1 and {}, is {quantity}",
            limits::MAX_LINE_QUANTITY
        )));
    }
    Ok(())
}

pub fn validate_line_request(line: &LineRequest) -> Result<(), ShopError> {
    check_identifier("orderId", &line.order_id, MAX_ORDER_ID_CHARS)?;
    check_identifier("itemId", &line.item_id, limits::MAX_ITEM_ID_CHARS)?;
    if line.line_index as usize >= limits::MAX_ORDER_LINES {
        return Err(ShopError::InvalidInput(format!(
            "lineIndex must be below {}, is {}",
            limits::MAX_ORDER_LINES,
            line.line_index
        )));
    }
    check_line_quantity("quantity", line.quantity)
}

pub fn validate_order_id(order_id: &str) -> Result<(), ShopError> {
    check_identifier("orderId", order_id, MAX_ORDER_ID_CHARS)
}

pub fn validate_order_request(order: &OrderRequest) -> Result<(), ShopError> {
    validate_order_id(&order.order_id)?;
    if order.lines.is_empty() || order.lines.len() > limits::MAX_ORDER_LINES {
        return Err(ShopError::InvalidInput(format!(
            "an order has between 1 and {} lines, this one has {}",
            limits::MAX_ORDER_LINES,
            order.lines.len()
        )));
    }
    for (index, line) in order.lines.iter().enumerate() {
        check_identifier(
            &format!("lines[{index}].itemId"),
            &line.item_id,
            limits::MAX_ITEM_ID_CHARS,
        )?;
        check_line_quantity(&format!("lines[{index}].quantity"), line.quantity)?;
    }
    Ok(())
}

/// Parses a function's payload into its contract type; a mismatch is [`ShopError::InvalidInput`].
pub fn parse_payload<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, ShopError> {
    serde_json::from_value(payload).map_err(|error| ShopError::InvalidInput(error.to_string()))
}

pub fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn string(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn corrupt(what: String) -> ShopError {
    ShopError::Storage {
        operation: "decode",
        message: what,
    }
}

pub fn read_string<'a>(item: &'a Item, name: &str) -> Result<&'a str, ShopError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        other => Err(corrupt(format!(
            "attribute {name} is not a string: {other:?}"
        ))),
    }
}

pub fn read_number(item: &Item, name: &str) -> Result<u64, ShopError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| corrupt(format!("attribute {name} is not a whole number: {value}"))),
        other => Err(corrupt(format!(
            "attribute {name} is not a number: {other:?}"
        ))),
    }
}

/// Stock of a product record.
pub fn stock_of(item: &Item) -> Result<u64, ShopError> {
    read_number(item, attr::STOCK)
}

pub fn status_from_str(value: &str) -> Result<OrderStatus, ShopError> {
    match value {
        "PENDING" => Ok(OrderStatus::Pending),
        "CONFIRMED" => Ok(OrderStatus::Confirmed),
        "CANCELLED" => Ok(OrderStatus::Cancelled),
        other => Err(corrupt(format!("unknown order status {other}"))),
    }
}

pub fn lines_to_attribute(lines: &[OrderLine]) -> AttributeValue {
    AttributeValue::L(
        lines
            .iter()
            .map(|line| {
                AttributeValue::M(HashMap::from([
                    (attr::ITEM_ID.to_string(), string(&line.item_id)),
                    (attr::QUANTITY.to_string(), number(line.quantity)),
                ]))
            })
            .collect(),
    )
}

/// An order record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub status: OrderStatus,
    /// Empty when the record is a fence written by `cancel-order` before `create-order` ran and the
    /// caller gave no lines.
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn to_item(&self) -> Item {
        let mut item = keys::order(&self.order_id);
        item.insert(attr::ORDER_ID.to_string(), string(&self.order_id));
        item.insert(attr::STATUS.to_string(), string(self.status.as_str()));
        item.insert(attr::LINES.to_string(), lines_to_attribute(&self.lines));
        item
    }

    pub fn from_item(item: &Item) -> Result<Order, ShopError> {
        let order_id = read_string(item, keys::SK)?.to_string();
        let status = status_from_str(read_string(item, attr::STATUS)?)?;
        let lines = match item.get(attr::LINES) {
            None => Vec::new(),
            Some(AttributeValue::L(lines)) => lines
                .iter()
                .map(|line| match line {
                    AttributeValue::M(fields) => Ok(OrderLine {
                        item_id: read_string(fields, attr::ITEM_ID)?.to_string(),
                        quantity: read_number(fields, attr::QUANTITY)?,
                    }),
                    other => Err(corrupt(format!("order line is not a map: {other:?}"))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(corrupt(format!("order lines are not a list: {other:?}"))),
        };
        Ok(Order {
            order_id,
            status,
            lines,
        })
    }
}

/// A reservation marker: proof that one order line's decrement was applied, and what to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub order_id: String,
    pub line_index: u32,
    pub item_id: String,
    pub quantity: u64,
}

impl Reservation {
    pub fn to_item(&self) -> Item {
        let mut item = keys::reservation(&self.order_id, self.line_index);
        item.insert(attr::ORDER_ID.to_string(), string(&self.order_id));
        item.insert(
            attr::LINE_INDEX.to_string(),
            number(u64::from(self.line_index)),
        );
        item.insert(attr::ITEM_ID.to_string(), string(&self.item_id));
        item.insert(attr::QUANTITY.to_string(), number(self.quantity));
        item
    }

    pub fn from_item(item: &Item) -> Result<Reservation, ShopError> {
        let line_index = read_number(item, attr::LINE_INDEX)?;
        Ok(Reservation {
            order_id: read_string(item, attr::ORDER_ID)?.to_string(),
            line_index: u32::try_from(line_index)
                .map_err(|_| corrupt(format!("lineIndex {line_index} out of range")))?,
            item_id: read_string(item, attr::ITEM_ID)?.to_string(),
            quantity: read_number(item, attr::QUANTITY)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_bounded_and_printable() {
        assert_eq!(identifier_problem("apple", 5), None);
        assert!(identifier_problem("", 5).is_some());
        assert!(identifier_problem("apples", 5).is_some());
        // characters, not bytes: five two-byte letters fit in five
        assert_eq!(identifier_problem("ééééé", 5), None);
        assert!(identifier_problem("a\nb", 5).is_some());
        assert!(identifier_problem("a\u{7f}", 5).is_some());
    }

    #[test]
    fn records_round_trip_through_attribute_maps() {
        let order = Order {
            order_id: "o-1".into(),
            status: OrderStatus::Pending,
            lines: vec![OrderLine {
                item_id: "apple".into(),
                quantity: 2,
            }],
        };
        assert_eq!(Order::from_item(&order.to_item()).expect("decodes"), order);
        let marker = Reservation {
            order_id: "o-1".into(),
            line_index: 4,
            item_id: "apple".into(),
            quantity: 2,
        };
        assert_eq!(
            Reservation::from_item(&marker.to_item()).expect("decodes"),
            marker
        );
    }

    #[test]
    fn a_corrupt_record_is_a_storage_error_not_a_panic() {
        let mut item = keys::store_item("apple");
        item.insert(attr::STOCK.into(), AttributeValue::S("ten".into()));
        assert_eq!(
            stock_of(&item).expect_err("refused").error_type(),
            "StorageError"
        );
    }
}
