//! Amazon States Language: a typed model that reads back what it writes, and static validation
