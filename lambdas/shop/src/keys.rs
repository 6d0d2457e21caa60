//! The table's key design: one table, a string partition key `PK` and a string sort key `SK`.
//!
//! | record              | PK                        | SK                    | other attributes                          |
//! |---------------------|---------------------------|-----------------------|-------------------------------------------|
//! | product             | `StoreItem`               | `<itemId>`            | `stock` (N)                               |
//! | order               | `Order`                   | `<orderId>`           | `status` (S), `lines` (L of M), `orderId` |
//! | reservation marker  | `Reservation#<orderId>`   | `Line#<lineIndex>`    | `orderId`, `lineIndex`, `itemId`, `quantity` |
//!
//! Products and orders keep the tutorial's shape (a constant partition per record kind). Reservation
//! markers get one partition per order, so `cancel-order` finds every decrement applied for an order with
//! one strongly consistent `Query` instead of trusting the lines it is handed, and restores exactly the
//! item and quantity recorded in each marker.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub const PK: &str = "PK";
pub const SK: &str = "SK";

pub const STORE_ITEM_PARTITION: &str = "StoreItem";
pub const ORDER_PARTITION: &str = "Order";
const RESERVATION_PREFIX: &str = "Reservation#";
const LINE_PREFIX: &str = "Line#";

/// Attribute names.
pub mod attr {
    pub const STOCK: &str = "stock";
    pub const STATUS: &str = "status";
    pub const LINES: &str = "lines";
    pub const ORDER_ID: &str = "orderId";
    pub const LINE_INDEX: &str = "lineIndex";
    pub const ITEM_ID: &str = "itemId";
    pub const QUANTITY: &str = "quantity";
}

pub type Key = HashMap<String, AttributeValue>;

fn key(pk: String, sk: String) -> Key {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk)),
        (SK.to_string(), AttributeValue::S(sk)),
    ])
}

pub fn store_item(item_id: &str) -> Key {
    key(STORE_ITEM_PARTITION.to_string(), item_id.to_string())
}

pub fn order(order_id: &str) -> Key {
    key(ORDER_PARTITION.to_string(), order_id.to_string())
}

/// Partition holding every reservation marker of one order.
pub fn reservation_partition(order_id: &str) -> String {
    format!("{RESERVATION_PREFIX}{order_id}")
}

pub fn reservation(order_id: &str, line_index: u32) -> Key {
    key(
        reservation_partition(order_id),
        format!("{LINE_PREFIX}{line_index}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(key: &Key, name: &str) -> String {
        match key.get(name) {
            Some(AttributeValue::S(value)) => value.clone(),
            other => panic!("{name} is not a string: {other:?}"),
        }
    }

    #[test]
    fn keys_follow_the_documented_design() {
        let item = store_item("apple");
        assert_eq!(
            (s(&item, PK), s(&item, SK)),
            ("StoreItem".into(), "apple".into())
        );
        let order = order("exec-1");
        assert_eq!(
            (s(&order, PK), s(&order, SK)),
            ("Order".into(), "exec-1".into())
        );
        let marker = reservation("exec-1", 3);
        assert_eq!(
            (s(&marker, PK), s(&marker, SK)),
            ("Reservation#exec-1".into(), "Line#3".into())
        );
    }

    #[test]
    fn an_order_id_cannot_collide_with_another_orders_markers() {
        // "a#b" line 1 and "a" line... never share a partition: the partition is the whole order id.
        assert_ne!(reservation("a#Line", 1), reservation("a", 1));
    }
}
