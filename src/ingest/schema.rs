//! The canonical tables: which columns exist, which are required, how each is parsed.

use std::fmt;

/// The four canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKind {
    Transactions,
    Customers,
    Contacts,
    Suppressions,
}

impl TableKind {
    pub const ALL: [TableKind; 4] = [
        TableKind::Transactions,
        TableKind::Customers,
        TableKind::Contacts,
        TableKind::Suppressions,
    ];

    /// The table's name in configs, file names and summaries.
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Transactions => "transactions",
            TableKind::Customers => "customers",
            TableKind::Contacts => "contacts",
            TableKind::Suppressions => "suppressions",
        }
    }

    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The canonical columns, required ones first.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            TableKind::Transactions => TRANSACTIONS,
            TableKind::Customers => CUSTOMERS,
            TableKind::Contacts => CONTACTS,
            TableKind::Suppressions => SUPPRESSIONS,
        }
    }

    /// The canonical columns that name a row to a person reading a database's rejects (a
    /// database row has no line a person could open; its number is only its place in the
    /// query's result). Only those the source maps are used.
    pub fn key_columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Transactions => &["customer_id", "order_id"],
            TableKind::Customers | TableKind::Suppressions => &["customer_id"],
            TableKind::Contacts => &["customer_id", "campaign_id", "contact_date"],
        }
    }

    /// Whether columns of the source file that map to no canonical column are carried along
    /// (customer attributes, extra contact fields) or left out (transactions, suppressions).
    pub fn keeps_extra_columns(self) -> bool {
        matches!(self, TableKind::Customers | TableKind::Contacts)
    }

    /// Whether a table whose source gives these canonical columns names its customers by e-mail
    /// or phone instead of id (a do-not-contact list of addresses): its `customer_id` is then
    /// optional, and the addresses are matched to the customers table (README "Identities").
    pub fn keyed_by_contact(self, has: impl Fn(&str) -> bool) -> bool {
        self == TableKind::Suppressions && (has("email") || has("phone"))
    }

    /// Columns whose dates are checked against the as-of date: an event after it is in the
    /// future. Signup and birth dates are attributes, not events, and are checked the same way
    /// (a signup after the as-of date is as impossible as a purchase).
    pub fn event_date_columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Transactions => &["order_date"],
            TableKind::Customers => &["signup_date"],
            TableKind::Contacts => &["contact_date"],
            TableKind::Suppressions => &[],
        }
    }
}

use ColumnType::{Date, Flag, Id, Number, Text};

const TRANSACTIONS: &[ColumnSpec] = &[
    ColumnSpec::required("customer_id", Id),
    ColumnSpec::required("order_date", Date),
    ColumnSpec::required("amount", Number),
    ColumnSpec::optional("order_id", Text),
    ColumnSpec::optional("quantity", Number),
    ColumnSpec::optional("product_id", Text),
    ColumnSpec::optional("category", Text),
    ColumnSpec::optional("channel", Text),
    ColumnSpec::optional("payment_method", Text),
    ColumnSpec::optional("discount", Number),
    ColumnSpec::optional("unit_price", Number),
    ColumnSpec::optional("product_name", Text),
    // What one unit cost the seller: the `profit` family's cost of goods, when mapped.
    ColumnSpec::optional("unit_cost", Number),
];

/// The transaction columns `amount` is computed from when a source maps no `amount` (invoice
/// lines): amount = quantity × unit_price, exact in the fixed point features sum in; a negative
/// quantity makes a return.
pub const AMOUNT_FACTORS: [&str; 2] = ["quantity", "unit_price"];
const CUSTOMERS: &[ColumnSpec] = &[
    ColumnSpec::required("customer_id", Id),
    ColumnSpec::optional("signup_date", Date),
    ColumnSpec::optional("birth_date", Date),
    ColumnSpec::optional("email_opt_in", Flag),
    ColumnSpec::optional("sms_opt_in", Flag),
    ColumnSpec::optional("mail_opt_in", Flag),
];
const CONTACTS: &[ColumnSpec] = &[
    ColumnSpec::required("customer_id", Id),
    ColumnSpec::required("campaign_id", Text),
    ColumnSpec::required("contact_date", Date),
    ColumnSpec::required("channel", Text),
    ColumnSpec::optional("group", Text),
    ColumnSpec::optional("responded", Flag),
    ColumnSpec::optional("response_value", Number),
    ColumnSpec::optional("response_date", Date),
];
/// A do-not-contact list names people by `customer_id`, or by `email` or `phone` instead
/// ([`TableKind::keyed_by_contact`]).
const SUPPRESSIONS: &[ColumnSpec] = &[
    ColumnSpec::required("customer_id", Id),
    ColumnSpec::optional("channel", Text),
    ColumnSpec::optional("reason", Text),
    ColumnSpec::optional("email", Text),
    ColumnSpec::optional("phone", Text),
];

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a canonical column is parsed and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A customer identifier: a trimmed, non-empty string (leading zeros kept).
    Id,
    /// Free text; empty becomes null.
    Text,
    /// A date (`YYYY-MM-DD`, an ISO datetime, or the configured format).
    Date,
    /// A finite decimal number.
    Number,
    /// A 0/1 flag (also `true/false`, `yes/no`, `y/n`, `t/f`).
    Flag,
}

impl ColumnType {
    /// What a value of this type looks like, for error messages.
    pub fn expected(self, date_format: Option<&str>) -> String {
        match self {
            ColumnType::Id => "a non-empty customer id".to_string(),
            ColumnType::Text => "text".to_string(),
            ColumnType::Date => match date_format {
                Some(f) => format!("a date in the format `{f}`"),
                None => "an ISO date (YYYY-MM-DD) or datetime".to_string(),
            },
            ColumnType::Number => "a number".to_string(),
            ColumnType::Flag => "a flag (0/1, true/false, yes/no)".to_string(),
        }
    }
}

/// One canonical column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnType,
    pub required: bool,
}

impl ColumnSpec {
    const fn required(name: &'static str, kind: ColumnType) -> ColumnSpec {
        ColumnSpec {
            name,
            kind,
            required: true,
        }
    }
    const fn optional(name: &'static str, kind: ColumnType) -> ColumnSpec {
        ColumnSpec {
            name,
            kind,
            required: false,
        }
    }
}
