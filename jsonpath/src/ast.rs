//! The syntax tree of a parsed path. Public so callers can inspect a path (the `asl` validator does),
//! but built only by the parsers: every tree here came from text that parses back to it.

use serde_json::Value;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the document (a Step Functions state's input, an API Gateway request body).
    Input,
    /// `$$`: the Step Functions context object (`$$.Execution.Id`, `$$.Map.Item.Value`, ...).
    Context,
    /// `@`: the node a filter is testing. Only inside filter expressions.
    Current,
}

impl Root {
    /// The text the root is written as: `$`, `$$` or `@`.
    pub fn as_str(self) -> &'static str {
        match self {
            Root::Input => "$",
            Root::Context => "$$",
            Root::Current => "@",
        }
    }
}

/// One step of a path: which children (or descendants) of each current node to select.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.name`, `.*`, `[...]`: select among the children of each node. Several selectors form a
    /// union (`[0,2]`, `['a','b']`); results come in selector order.
    Child(Vec<Selector>),
    /// `..name`, `..*`, `..[...]`: apply the selectors to each node and all of its descendants, in
    /// document order (pre-order).
    Descendant(Vec<Selector>),
}

impl Segment {
    /// The selectors of the segment, whichever its kind.
    pub fn selectors(&self) -> &[Selector] {
        match self {
            Segment::Child(selectors) | Segment::Descendant(selectors) => selectors,
        }
    }
}

/// What a segment selects among a node's children.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// An object member by name (`.a`, `['b c']`).
    Name(String),
    /// An array element; negative counts from the end (`[-1]` is the last element).
    Index(i64),
    /// Every member value of an object or element of an array (`*`).
    Wildcard,
    /// Array elements `[start:end:step]` with Python's rules (negative bounds count from the end).
    Slice(Slice),
    /// `[?(expr)]`: the array elements for which the expression holds. On an object (not an array)
    /// the filter tests the object itself, as Jayway JsonPath (which AWS runs) does.
    Filter(Box<FilterExpr>),
}

/// The bounds of a slice selector; `None` means "not written" (defaults as in Python).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub step: Option<i64>,
}

/// A filter expression, as in `[?(@.price < 10 && @.tags)]`.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    Or(Box<FilterExpr>, Box<FilterExpr>),
    And(Box<FilterExpr>, Box<FilterExpr>),
    Not(Box<FilterExpr>),
    /// `left op right`.
    Compare {
        left: Operand,
        op: CompareOp,
        right: Operand,
    },
    /// A bare path (`@.isbn`): true when it selects at least one node.
    Exists(Box<crate::JsonPath>),
}

/// A side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@...`, `$...` or `$$...`. A definite path stands for its one value; an indefinite path for the
    /// array of its matches. A path that selects nothing compares equal only to another such path.
    Path(Box<crate::JsonPath>),
    /// A number, a string (`'x'` or `"x"`), `true`, `false` or `null`.
    Literal(Value),
}

/// Comparison operators in filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// One step of a [`crate::ReferencePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// An object field: `.name` or `['name']`.
    Field(String),
    /// An array element by its non-negative index: `[3]`.
    Index(usize),
}
