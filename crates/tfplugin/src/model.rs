//! Typed models: Rust structs for a schema's values.
//!
//! Resources, data sources and ephemeral resources declare a struct per
//! schema and `#[derive(Model)]` it; the framework converts the codec's
//! [`Value`] trees to and from it in one place. Decoding is strict: a key the
//! struct expects but the value lacks, or a key the value has but the struct
//! lacks, is an error. Because every value the framework decodes is shaped by
//! the schema, a field that disagrees with the schema fails the first decode,
//! and [`assert_matches_schema`] makes that a unit test.
//!
//! Attribute values that may be null or not yet known are [`Val`]s, as
//! `types.String` is in terraform-plugin-framework: Terraform's three states
//! (null, unknown, known) are part of the type, so "not known yet" can never
//! be mistaken for "empty".

use std::collections::BTreeMap;

use crate::codec::{AttributePath, Number, Type, Value};
use crate::schema::{Block, Nesting, Schema};

pub use tfplugin_derive::Model;

/// Why a value does not fit a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An unknown value where the field cannot hold one. [`Val`] catches it
    /// and becomes [`Val::Unknown`]; anywhere else it is a bug.
    #[error("a value at {0} is not known yet")]
    Unknown(AttributePath),
    #[error("{message}{}", at(.path))]
    Mismatch { message: String, path: AttributePath },
}

fn at(path: &AttributePath) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (at {path})")
    }
}

impl ModelError {
    pub fn mismatch(message: impl Into<String>, path: &AttributePath) -> Self {
        ModelError::Mismatch {
            message: message.into(),
            path: path.clone(),
        }
    }
}

/// A Terraform attribute value: null, not yet known, or known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Val<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
}

impl<T> Val<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Val::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Val::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Val::Unknown)
    }

    pub fn is_known(&self) -> bool {
        matches!(self, Val::Known(_))
    }

    pub fn as_ref(&self) -> Val<&T> {
        match self {
            Val::Null => Val::Null,
            Val::Unknown => Val::Unknown,
            Val::Known(v) => Val::Known(v),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Val<U> {
        match self {
            Val::Null => Val::Null,
            Val::Unknown => Val::Unknown,
            Val::Known(v) => Val::Known(f(v)),
        }
    }

    /// The known value, or `default` when null; `None` while unknown.
    pub fn known_or(&self, default: T) -> Option<T>
    where
        T: Clone,
    {
        match self {
            Val::Null => Some(default),
            Val::Unknown => None,
            Val::Known(v) => Some(v.clone()),
        }
    }
}

impl<T> From<Option<T>> for Val<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Val::Known)
    }
}

impl<T> From<T> for Val<T> {
    fn from(v: T) -> Self {
        Val::Known(v)
    }
}

impl Val<String> {
    pub fn as_deref(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> Val<Vec<T>> {
    /// The elements of a known collection; empty for null and unknown.
    pub fn items(&self) -> &[T] {
        self.known().map_or(&[], Vec::as_slice)
    }
}

/// Reads a model field from a codec value.
pub trait FromValue: Sized {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError>;
}

/// Writes a model field as a codec value. Collections come out as lists;
/// [`conform`] turns them into sets where the schema says so.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

/// A struct of attributes; implemented by `#[derive(Model)]`.
pub trait Model: FromValue + ToValue + Sized {
    fn attribute_names(out: &mut Vec<&'static str>);
    fn from_fields(fields: &BTreeMap<String, Value>, path: &AttributePath) -> Result<Self, ModelError>;
    fn write_fields(&self, out: &mut BTreeMap<String, Value>);

    /// Every attribute and block name of this model.
    fn attributes() -> Vec<&'static str> {
        let mut out = Vec::new();
        Self::attribute_names(&mut out);
        out
    }
}

/// The field `name` of an object, for generated code.
pub fn field<'a>(
    fields: &'a BTreeMap<String, Value>,
    name: &str,
    path: &AttributePath,
) -> Result<&'a Value, ModelError> {
    fields
        .get(name)
        .ok_or_else(|| ModelError::mismatch(format!("the model's attribute {name:?} is not in the value"), path))
}

/// Decodes an object value into a model, refusing keys the model lacks.
pub fn decode_object<M: Model>(value: &Value, path: &AttributePath) -> Result<M, ModelError> {
    let fields = match value {
        Value::Object(fields) => fields,
        Value::Unknown(_) => return Err(ModelError::Unknown(path.clone())),
        other => {
            return Err(ModelError::mismatch(
                format!("expected an object, found {}", other.kind()),
                path,
            ))
        }
    };
    let names = M::attributes();
    let missing: Vec<&str> = names.iter().copied().filter(|n| !fields.contains_key(*n)).collect();
    let extra: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !names.contains(k))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("model fields not in the schema: {missing:?}"));
        }
        if !extra.is_empty() {
            parts.push(format!("schema attributes without a model field: {extra:?}"));
        }
        return Err(ModelError::mismatch(parts.join("; "), path));
    }
    M::from_fields(fields, path)
}

/// Decodes a whole value into a model: `None` for a null object (no prior
/// state, a destroyed object).
pub fn decode<M: Model>(value: &Value) -> Result<Option<M>, ModelError> {
    if value.is_null() {
        return Ok(None);
    }
    decode_object(value, &AttributePath::root()).map(Some)
}

/// Encodes a model as a value of `ty`.
pub fn encode<M: Model>(model: &M, ty: &Type) -> Value {
    conform(model.to_value(), ty)
}

fn not_known_or(value: &Value, path: &AttributePath, want: &str) -> ModelError {
    if value.is_unknown() {
        ModelError::Unknown(path.clone())
    } else {
        ModelError::mismatch(format!("expected {want}, found {}", value.kind()), path)
    }
}

impl<T: FromValue> FromValue for Val<T> {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        match value {
            Value::Null => Ok(Val::Null),
            Value::Unknown(_) => Ok(Val::Unknown),
            v => match T::from_value(v, path) {
                Ok(t) => Ok(Val::Known(t)),
                // Something inside is not known yet: so is the whole.
                Err(ModelError::Unknown(_)) => Ok(Val::Unknown),
                Err(e) => Err(e),
            },
        }
    }
}

impl<T: ToValue> ToValue for Val<T> {
    fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Unknown => Value::unknown(),
            Val::Known(v) => v.to_value(),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v, path).map(Some),
        }
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl FromValue for String {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| not_known_or(value, path, "a string"))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl FromValue for bool {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        value.as_bool().ok_or_else(|| not_known_or(value, path, "a bool"))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromValue for Number {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        value
            .as_number()
            .cloned()
            .ok_or_else(|| not_known_or(value, path, "a number"))
    }
}

impl ToValue for Number {
    fn to_value(&self) -> Value {
        Value::Number(self.clone())
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        match value {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| ModelError::mismatch("expected a whole number that fits 64 bits", path)),
            v => Err(not_known_or(v, path, "a number")),
        }
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::int(*self)
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        match value {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => xs
                .iter()
                .enumerate()
                .map(|(i, x)| T::from_value(x, &path.push_index(i)))
                .collect(),
            v => Err(not_known_or(v, path, "a collection")),
        }
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}

/// A `map(...)` attribute, keyed by string.
impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(value: &Value, path: &AttributePath) -> Result<Self, ModelError> {
        match value {
            Value::Map(m) | Value::Object(m) => m
                .iter()
                .map(|(k, v)| T::from_value(v, &path.push_key(k)).map(|t| (k.clone(), t)))
                .collect(),
            v => Err(not_known_or(v, path, "a map")),
        }
    }
}

impl<T: ToValue> ToValue for BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
    }
}

/// Reshapes `value` to the collection kinds of `ty`: lists become sets where
/// the type is a set (sorted and de-duplicated, so equal sets encode alike).
pub fn conform(value: Value, ty: &Type) -> Value {
    match (value, ty) {
        (Value::List(xs) | Value::Set(xs), Type::Set(elem)) => {
            let mut items: Vec<Value> = xs.into_iter().map(|x| conform(x, elem)).collect();
            if items.iter().all(|x| matches!(x, Value::String(_))) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            let mut unique: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !unique.iter().any(|u| u.set_eq(&item)) {
                    unique.push(item);
                }
            }
            Value::Set(unique)
        }
        (Value::List(xs) | Value::Set(xs), Type::List(elem)) => {
            Value::List(xs.into_iter().map(|x| conform(x, elem)).collect())
        }
        (Value::Object(fields), Type::Object { attributes, .. }) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let v = match attributes.get(&k) {
                        Some(t) => conform(v, t),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (Value::Map(fields), Type::Map(elem)) => {
            Value::Map(fields.into_iter().map(|(k, v)| (k, conform(v, elem))).collect())
        }
        (v, _) => v,
    }
}

/// A value of `block`'s type with every attribute null and one element in
/// each nested block, so that nested models are exercised too.
pub fn sample_value(block: &Block) -> Value {
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        out.insert(a.name.to_string(), sample_of_type(&a.ty));
    }
    for b in &block.blocks {
        let inner = sample_value(&b.block);
        let v = match b.nesting {
            Nesting::Single => inner,
            Nesting::List => Value::List(vec![inner]),
            Nesting::Set => Value::Set(vec![inner]),
        };
        out.insert(b.name.to_string(), v);
    }
    Value::Object(out)
}

/// Collections of objects get one element, so the element's model is
/// checked; collections of primitives stay empty (a null element is no
/// valid value).
fn sample_of_type(ty: &Type) -> Value {
    let one = |e: &Type| match e {
        Type::Object { .. } => vec![sample_of_type(e)],
        _ => Vec::new(),
    };
    match ty {
        Type::List(e) => Value::List(one(e)),
        Type::Set(e) => Value::Set(one(e)),
        Type::Object { attributes, .. } => {
            Value::Object(attributes.iter().map(|(k, t)| (k.clone(), sample_of_type(t))).collect())
        }
        _ => Value::Null,
    }
}

/// Checks that model `M` has exactly the attributes and blocks of `schema`,
/// nested ones included: the unit test every typed model gets.
pub fn check_model<M: Model>(schema: &Schema) -> Result<(), ModelError> {
    let ty = schema.value_type();
    let sample = sample_value(&schema.block);
    let model: M = decode_object(&sample, &AttributePath::root())?;
    let back = encode(&model, &ty);
    crate::codec::encode_msgpack(&back, &ty)
        .map_err(|e| ModelError::mismatch(format!("the model does not encode as the schema's type: {e}"), &e.path))?;
    Ok(())
}

/// Panics with the mismatch; for `#[test]`s.
pub fn assert_matches_schema<M: Model>(schema: &Schema) {
    if let Err(e) = check_model::<M>(schema) {
        panic!("model {} and its schema disagree: {e}", std::any::type_name::<M>());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    #[derive(Debug, Clone, PartialEq, Model)]
    struct Inner {
        username: Val<String>,
    }

    #[derive(Debug, Clone, PartialEq, Model)]
    struct Outer {
        name: Val<String>,
        tags: Val<Vec<String>>,
        count: Val<i64>,
        credential: Val<Vec<Inner>>,
    }

    #[derive(Debug, Clone, PartialEq, Model)]
    struct Misspelt {
        nmae: Val<String>,
        tags: Val<Vec<String>>,
        count: Val<i64>,
        credential: Val<Vec<Inner>>,
    }

    #[derive(Debug, Clone, PartialEq, Model)]
    struct Shared {
        name: Val<String>,
        tags: Val<Vec<String>>,
    }

    #[derive(Debug, Clone, PartialEq, Model)]
    struct Flattened {
        #[tf(flatten)]
        shared: Shared,
        count: Val<i64>,
        credential: Val<Vec<Inner>>,
    }

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("")
                .attr(Attribute::required("name", Type::String))
                .attr(Attribute::optional("tags", Type::set(Type::String)))
                .attr(Attribute::optional("count", Type::Number))
                .block(NestedBlock::list(
                    "credential",
                    Block::new("").attr(Attribute::required("username", Type::String)),
                )),
        )
    }

    #[test]
    fn a_matching_model_passes_and_a_misspelt_one_fails() {
        assert!(check_model::<Outer>(&schema()).is_ok());
        assert!(check_model::<Flattened>(&schema()).is_ok());
        let err = check_model::<Misspelt>(&schema()).unwrap_err().to_string();
        assert!(err.contains("\"nmae\""), "{err}");
    }

    #[test]
    fn unknown_inside_a_collection_makes_the_collection_unknown() {
        let v = Value::object([
            ("name", Value::string("a")),
            ("tags", Value::Set(vec![Value::string("x"), Value::unknown()])),
            ("count", Value::unknown()),
            (
                "credential",
                Value::List(vec![Value::object([("username", Value::unknown())])]),
            ),
        ]);
        let m: Outer = decode_object(&v, &AttributePath::root()).unwrap();
        assert_eq!(m.tags, Val::Unknown);
        assert_eq!(m.count, Val::Unknown);
        assert_eq!(m.credential.items()[0].username, Val::Unknown);
    }

    #[test]
    fn sets_are_sorted_and_deduplicated_on_encode() {
        let m = Outer {
            name: Val::Known("a".into()),
            tags: Val::Known(vec!["b".into(), "a".into(), "b".into()]),
            count: Val::Known(3),
            credential: Val::Known(vec![]),
        };
        let v = encode(&m, &schema().value_type());
        assert_eq!(v.get("tags"), &Value::string_set(["a", "b"]));
        assert_eq!(v.get("credential"), &Value::List(vec![]));
    }

    #[test]
    fn a_fraction_is_not_an_integer() {
        let n = Value::Number("1.5".parse::<Number>().unwrap());
        assert!(matches!(
            i64::from_value(&n, &AttributePath::root()),
            Err(ModelError::Mismatch { .. })
        ));
    }
}
