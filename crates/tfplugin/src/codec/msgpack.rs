//! The msgpack form of `DynamicValue`, following go-cty's encoding.

use std::collections::BTreeMap;
use std::str::FromStr;

use rmpv::Value as Mp;

use super::number::WireNumber;
use super::{AttributePath, CodecError, Number, Refinements, Type, Value};

/// cty's extension code for an unknown value with refinements.
const EXT_REFINED_UNKNOWN: i8 = 12;

pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let root = AttributePath::root();
    super::bounds::check_msgpack(bytes)?;
    let mut reader = bytes;
    let raw =
        rmpv::decode::read_value(&mut reader).map_err(|e| CodecError::new(format!("malformed msgpack: {e}"), &root))?;
    if !reader.is_empty() {
        return Err(CodecError::new(
            format!("{} trailing bytes after the msgpack value", reader.len()),
            &root,
        ));
    }
    from_mp(&raw, ty, &root)
}

pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mp = to_mp(value, ty, &AttributePath::root())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp)
        .map_err(|e| CodecError::new(format!("msgpack encoding failed: {e}"), &AttributePath::root()))?;
    Ok(out)
}

fn from_mp(raw: &Mp, ty: &Type, path: &AttributePath) -> Result<Value, CodecError> {
    match raw {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(code, payload) => return Ok(Value::Unknown(read_refinements(*code, payload))),
        _ => {}
    }
    match ty {
        Type::Bool => raw
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| mismatch(raw, "a bool", path)),
        Type::String => raw
            .as_str()
            .map(|s| Value::String(s.to_string()))
            .ok_or_else(|| mismatch(raw, "a UTF-8 string", path)),
        Type::Number => read_number(raw, path).map(Value::Number),
        Type::List(elem) | Type::Set(elem) => {
            let items = raw.as_array().ok_or_else(|| mismatch(raw, "an array", path))?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_mp(item, elem, &path.push_index(i)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(values)
            } else {
                Value::Set(values)
            })
        }
        Type::Tuple(elems) => tuple_from_mp(raw, elems, path),
        Type::Map(elem) => {
            let entries = raw.as_map().ok_or_else(|| mismatch(raw, "a map", path))?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or_else(|| CodecError::new("map keys must be strings", path))?;
                out.insert(key.to_string(), from_mp(v, elem, &path.push_key(key))?);
            }
            Ok(Value::Map(out))
        }
        Type::Object { attributes, optional } => object_from_mp(raw, attributes, optional, path),
        Type::Dynamic => dynamic_from_mp(raw, path),
    }
}

fn mismatch(raw: &Mp, want: &str, path: &AttributePath) -> CodecError {
    CodecError::new(format!("expected {want}, found {}", describe(raw)), path)
}

fn tuple_from_mp(raw: &Mp, elems: &[Type], path: &AttributePath) -> Result<Value, CodecError> {
    let items = raw.as_array().ok_or_else(|| mismatch(raw, "an array", path))?;
    if items.len() != elems.len() {
        return Err(CodecError::new(
            format!(
                "a tuple of {} elements is required ({} given)",
                elems.len(),
                items.len()
            ),
            path,
        ));
    }
    Ok(Value::Tuple(
        items
            .iter()
            .zip(elems)
            .enumerate()
            .map(|(i, (item, t))| from_mp(item, t, &path.push_index(i)))
            .collect::<Result<_, _>>()?,
    ))
}

/// An object: every attribute the type has, each once; an optional one
/// may be absent (null).
fn object_from_mp(
    raw: &Mp,
    attributes: &BTreeMap<String, Type>,
    optional: &std::collections::BTreeSet<String>,
    path: &AttributePath,
) -> Result<Value, CodecError> {
    let entries = raw.as_map().ok_or_else(|| mismatch(raw, "an object", path))?;
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let key = k
            .as_str()
            .ok_or_else(|| CodecError::new("object keys must be strings", path))?;
        let attr_ty = attributes
            .get(key)
            .ok_or_else(|| CodecError::new(format!("unsupported attribute {key:?}"), path))?;
        out.insert(key.to_string(), from_mp(v, attr_ty, &path.push_attr(key))?);
    }
    for name in attributes.keys() {
        if out.contains_key(name) {
            continue;
        }
        if !optional.contains(name) {
            return Err(CodecError::new(
                format!(
                    "an object with {} attributes is required ({} given); {name:?} is missing",
                    attributes.len(),
                    entries.len()
                ),
                path,
            ));
        }
        out.insert(name.clone(), Value::Null);
    }
    Ok(Value::Object(out))
}

/// A dynamic value: `[type JSON, value]`.
fn dynamic_from_mp(raw: &Mp, path: &AttributePath) -> Result<Value, CodecError> {
    let pair = raw
        .as_array()
        .ok_or_else(|| mismatch(raw, "a [type, value] pair", path))?;
    let [type_json, inner] = pair.as_slice() else {
        return Err(mismatch(raw, "a [type, value] pair", path));
    };
    let type_bytes = match type_json {
        Mp::Binary(b) => b.as_slice(),
        Mp::String(s) => s.as_bytes(),
        _ => return Err(mismatch(raw, "type JSON as bytes", path)),
    };
    let concrete = Type::from_json_bytes(type_bytes).map_err(|e| CodecError::new(e.message, path))?;
    if concrete == Type::Dynamic {
        return Err(CodecError::new("a dynamic value cannot have type dynamic", path));
    }
    let value = from_mp(inner, &concrete, path)?;
    Ok(Value::Dynamic(concrete, Box::new(value)))
}

fn read_number(raw: &Mp, path: &AttributePath) -> Result<Number, CodecError> {
    match raw {
        Mp::Integer(i) => {
            if let Some(v) = i.as_i64() {
                Ok(Number::from_i64(v))
            } else if let Some(v) = i.as_u64() {
                Ok(Number::from_u64(v))
            } else {
                Err(CodecError::new("integer out of range", path))
            }
        }
        Mp::F32(f) => Number::from_f64(f64::from(*f)).ok_or_else(|| CodecError::new("numbers must be finite", path)),
        Mp::F64(f) => Number::from_f64(*f).ok_or_else(|| CodecError::new("numbers must be finite", path)),
        Mp::String(s) => {
            let text = s
                .as_str()
                .ok_or_else(|| CodecError::new("number text is not UTF-8", path))?;
            Number::from_str(text).map_err(|e| CodecError::new(e, path))
        }
        other => Err(CodecError::new(
            format!("expected a number, found {}", describe(other)),
            path,
        )),
    }
}

/// Reads cty's refinement payload. Any other extension, or a payload we
/// cannot read, is still an unknown: Terraform may add refinements later and
/// an unknown must never fail to decode.
fn read_refinements(code: i8, payload: &[u8]) -> Refinements {
    let mut refinements = Refinements::default();
    if code != EXT_REFINED_UNKNOWN {
        return refinements;
    }
    let mut reader = payload;
    let Ok(Mp::Map(entries)) = rmpv::decode::read_value(&mut reader) else {
        return refinements;
    };
    let root = AttributePath::root();
    let bound = |v: &Mp| -> Option<(Number, bool)> {
        let pair = v.as_array()?;
        let n = read_number(pair.first()?, &root).ok()?;
        Some((n, pair.get(1)?.as_bool()?))
    };
    for (key, value) in &entries {
        match key.as_u64() {
            Some(1) => refinements.is_null = value.as_bool(),
            Some(2) => refinements.string_prefix = value.as_str().map(str::to_string),
            Some(3) => refinements.number_lower = bound(value),
            Some(4) => refinements.number_upper = bound(value),
            Some(5) => refinements.length_min = value.as_u64(),
            Some(6) => refinements.length_max = value.as_u64(),
            _ => {}
        }
    }
    refinements
}

fn write_refinements(r: &Refinements) -> Mp {
    if r.is_empty() {
        return Mp::Ext(0, vec![0]);
    }
    let mut entries = Vec::new();
    if let Some(b) = r.is_null {
        entries.push((Mp::from(1), Mp::Boolean(b)));
    }
    if let Some(p) = &r.string_prefix {
        entries.push((Mp::from(2), Mp::from(p.as_str())));
    }
    for (key, bound) in [(3, &r.number_lower), (4, &r.number_upper)] {
        if let Some((n, inclusive)) = bound {
            entries.push((Mp::from(key), Mp::Array(vec![number_to_mp(n), Mp::Boolean(*inclusive)])));
        }
    }
    for (key, len) in [(5, r.length_min), (6, r.length_max)] {
        if let Some(len) = len {
            entries.push((Mp::from(key), Mp::from(len)));
        }
    }
    let mut payload = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut payload, &Mp::Map(entries));
    Mp::Ext(EXT_REFINED_UNKNOWN, payload)
}

fn number_to_mp(n: &Number) -> Mp {
    match n.to_wire() {
        WireNumber::Int(v) => Mp::from(v),
        WireNumber::UInt(v) => Mp::from(v),
        WireNumber::Float(f) => Mp::F64(f),
        WireNumber::Text(t) => Mp::from(t),
    }
}

fn to_mp(value: &Value, ty: &Type, path: &AttributePath) -> Result<Mp, CodecError> {
    let mismatch = || {
        CodecError::new(
            format!("{} value cannot be encoded as {}", value.kind(), ty.to_json()),
            path,
        )
    };
    Ok(match (value, ty) {
        (Value::Null, _) => Mp::Nil,
        (Value::Unknown(r), _) => write_refinements(r),
        (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (Value::String(s), Type::String) => Mp::from(s.as_str()),
        (Value::Number(n), Type::Number) => number_to_mp(n),
        (Value::List(xs), Type::List(elem)) | (Value::Set(xs), Type::Set(elem)) => Mp::Array(
            xs.iter()
                .enumerate()
                .map(|(i, x)| to_mp(x, elem, &path.push_index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Tuple(xs), Type::Tuple(elems)) if xs.len() == elems.len() => Mp::Array(
            xs.iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (x, t))| to_mp(x, t, &path.push_index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Map(m), Type::Map(elem)) => Mp::Map(
            m.iter()
                .map(|(k, v)| Ok((Mp::from(k.as_str()), to_mp(v, elem, &path.push_key(k))?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Value::Object(m), Type::Object { attributes, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attributes.contains_key(*k)) {
                return Err(CodecError::new(format!("unsupported attribute {extra:?}"), path));
            }
            // Every attribute of the type, null when absent: cty rejects
            // objects with missing keys.
            Mp::Map(
                attributes
                    .iter()
                    .map(|(name, attr_ty)| {
                        let v = m.get(name).unwrap_or(&Value::Null);
                        Ok((Mp::from(name.as_str()), to_mp(v, attr_ty, &path.push_attr(name))?))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        (Value::Dynamic(concrete, inner), Type::Dynamic) => Mp::Array(vec![
            Mp::Binary(concrete.to_json_bytes()),
            to_mp(inner, concrete, path)?,
        ]),
        _ => return Err(mismatch()),
    })
}

fn describe(raw: &Mp) -> &'static str {
    match raw {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "a bool",
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "a number",
        Mp::String(_) => "a string",
        Mp::Binary(_) => "binary data",
        Mp::Array(_) => "an array",
        Mp::Map(_) => "a map",
        Mp::Ext(..) => "an extension",
    }
}
