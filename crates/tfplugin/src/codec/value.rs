use std::collections::BTreeMap;

use super::{Number, Type};

/// What Terraform already knows about a value it cannot compute yet.
///
/// Terraform 1.11 sends these (msgpack ext 12) in configuration; we accept
/// them and keep them so a value round-trips, but never emit refinements in a
/// plan, because emitting one is a promise that apply must keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refinements {
    /// `Some(false)`: definitely not null.
    pub is_null: Option<bool>,
    pub string_prefix: Option<String>,
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_min: Option<u64>,
    pub length_max: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A Terraform value, typed by the schema it was decoded with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Value {
    #[default]
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in the order they arrived; compare sets with [`Value::set_eq`].
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value of a `dynamic` attribute, with the concrete type it came with.
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn int(v: i64) -> Value {
        Value::Number(Number::from_i64(v))
    }

    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// A set of strings, sorted so that equal sets encode identically.
    pub fn string_set<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
        let mut items: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
        items.sort();
        items.dedup();
        Value::Set(items.into_iter().map(Value::String).collect())
    }

    /// What kind of value this is, for error messages: never the value
    /// itself, which may be a secret.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "a null",
            Value::Unknown(_) => "an unknown",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
            Value::Object(_) => "an object",
            Value::Tuple(_) => "a tuple",
            Value::Dynamic(..) => "a dynamic",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when no unknown hides anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => xs.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// An attribute of an object; `Null` for anything else, which is what a
    /// missing attribute means to Terraform.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub fn set_attr(&mut self, name: &str, value: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple; empty for null.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => xs,
            _ => &[],
        }
    }

    /// Equality that ignores set element order.
    pub fn set_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.set_eq(y))),
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.set_eq(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.set_eq(w)))
            }
            _ => self == other,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::int(v)
    }
}
