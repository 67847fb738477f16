use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{AttributePath, CodecError};

/// A cty type, the type system behind every Terraform value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type, chosen per value; values carry their type on the wire.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object {
        attributes: BTreeMap<String, Type>,
        /// Attributes that may be omitted in a type constraint.
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    pub fn object<'a>(attributes: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object {
            attributes: attributes
                .into_iter()
                .map(|(name, ty)| (name.to_string(), ty))
                .collect(),
            optional: BTreeSet::new(),
        }
    }

    /// The type constraint JSON Terraform reads from schemas and writes in
    /// dynamic values: `"string"`, `["list","string"]`, `["object",{…}]`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Type::Bool => json!("bool"),
            Type::Number => json!("number"),
            Type::String => json!("string"),
            Type::Dynamic => json!("dynamic"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Tuple(es) => json!(["tuple", es.iter().map(Type::to_json).collect::<Vec<_>>()]),
            Type::Object { attributes, optional } => {
                let attrs: serde_json::Map<String, serde_json::Value> =
                    attributes.iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
                if optional.is_empty() {
                    json!(["object", attrs])
                } else {
                    json!(["object", attrs, optional.iter().collect::<Vec<_>>()])
                }
            }
        }
    }

    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, CodecError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| CodecError::new(format!("type is not JSON: {e}"), &AttributePath::root()))?;
        Type::from_json(&value)
    }

    pub fn from_json(value: &serde_json::Value) -> Result<Type, CodecError> {
        Self::from_json_depth(value, 0)
    }

    fn from_json_depth(value: &serde_json::Value, depth: usize) -> Result<Type, CodecError> {
        let bad = |what: &str| CodecError::new(format!("invalid type JSON: {what}"), &AttributePath::root());
        if depth > 64 {
            return Err(bad("nested too deeply"));
        }
        match value {
            serde_json::Value::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(bad(&format!("unknown primitive type {other:?}"))),
            },
            serde_json::Value::Array(items) => {
                let kind = items
                    .first()
                    .and_then(|k| k.as_str())
                    .ok_or_else(|| bad("missing type kind"))?;
                let arg = items.get(1).ok_or_else(|| bad("missing type argument"))?;
                match (kind, items.len()) {
                    ("list", 2) => Ok(Type::list(Self::from_json_depth(arg, depth + 1)?)),
                    ("set", 2) => Ok(Type::set(Self::from_json_depth(arg, depth + 1)?)),
                    ("map", 2) => Ok(Type::map(Self::from_json_depth(arg, depth + 1)?)),
                    ("tuple", 2) => {
                        let elems = arg.as_array().ok_or_else(|| bad("tuple needs an array"))?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(|e| Self::from_json_depth(e, depth + 1))
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    ("object", 2 | 3) => {
                        let attrs = arg.as_object().ok_or_else(|| bad("object needs a map"))?;
                        let mut attributes = BTreeMap::new();
                        for (name, ty) in attrs {
                            attributes.insert(name.clone(), Self::from_json_depth(ty, depth + 1)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(opt) = items.get(2) {
                            for name in opt.as_array().ok_or_else(|| bad("optional attributes need an array"))? {
                                let name = name
                                    .as_str()
                                    .ok_or_else(|| bad("optional attribute names are strings"))?;
                                if !attributes.contains_key(name) {
                                    return Err(bad(&format!("optional attribute {name:?} is not in the object")));
                                }
                                optional.insert(name.to_string());
                            }
                        }
                        Ok(Type::Object { attributes, optional })
                    }
                    _ => Err(bad(&format!("unknown type kind {kind:?}"))),
                }
            }
            _ => Err(bad("expected a string or an array")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_json_round_trips() {
        let ty = Type::Object {
            attributes: [
                ("a".to_string(), Type::list(Type::String)),
                ("b".to_string(), Type::Tuple(vec![Type::Number, Type::Dynamic])),
            ]
            .into_iter()
            .collect(),
            optional: ["b".to_string()].into_iter().collect(),
        };
        let text = String::from_utf8(ty.to_json_bytes()).unwrap();
        assert_eq!(
            text,
            r#"["object",{"a":["list","string"],"b":["tuple",["number","dynamic"]]},["b"]]"#
        );
        assert_eq!(Type::from_json_bytes(text.as_bytes()).unwrap(), ty);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [r#""strin""#, r#"["list"]"#, r#"["object",{},["x"]]"#, "42", "{"] {
            assert!(Type::from_json_bytes(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
