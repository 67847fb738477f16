//! The JSON form of `DynamicValue`, as stored in state files.
//!
//! serde_json would read numbers as `f64`/`u64` and lose digits unless its
//! crate-wide `arbitrary_precision` feature is on, and that feature breaks
//! other crates' `flatten` fields (the oauth2 token response among them). So
//! this module has a small reader of its own that keeps number text as is.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use super::number::WireNumber;
use super::{AttributePath, CodecError, Number, Type, Value};

use super::bounds::{MAX_DEPTH, MAX_VALUES};

#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode_json_with(bytes, ty, false)
}

/// Reads stored state JSON written under an older schema: attributes the
/// current schema no longer has are dropped, missing ones become null.
pub fn decode_state_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode_json_with(bytes, ty, true)
}

fn decode_json_with(bytes: &[u8], ty: &Type, lenient: bool) -> Result<Value, CodecError> {
    let root = AttributePath::root();
    let text = std::str::from_utf8(bytes).map_err(|_| CodecError::new("JSON is not UTF-8", &root))?;
    let mut parser = Parser {
        s: text.as_bytes(),
        i: 0,
        values: 0,
    };
    let json = parser.value(0).map_err(|m| CodecError::new(m.0, &root))?;
    parser.ws();
    if parser.i != parser.s.len() {
        return Err(CodecError::new("trailing characters after the JSON value", &root));
    }
    from_json(&json, ty, &root, lenient)
}

pub fn encode_json(value: &Value, ty: &Type) -> Result<String, CodecError> {
    let mut out = String::new();
    write_json(&mut out, value, ty, &AttributePath::root())?;
    Ok(out)
}

/// Why a text is not JSON, with the byte where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct Syntax(String);

impl From<&str> for Syntax {
    fn from(s: &str) -> Self {
        Syntax(s.to_string())
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// Values read so far, against [`MAX_VALUES`].
    values: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, word: &str) -> Result<(), Syntax> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Syntax(format!("invalid JSON at byte {}", self.i)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, Syntax> {
        if depth > MAX_DEPTH {
            return Err("JSON nested too deeply".into());
        }
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(Syntax(format!(
                "the value is too large to decode: more than {MAX_VALUES} values"
            )));
        }
        self.ws();
        match self.peek() {
            None => Err("unexpected end of JSON".into()),
            Some(b'n') => self.expect("null").map(|_| Json::Null),
            Some(b't') => self.expect("true").map(|_| Json::Bool(true)),
            Some(b'f') => self.expect("false").map(|_| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => self.array(depth),
            Some(b'{') => self.object(depth),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(c) => Err(Syntax(format!(
                "unexpected character {:?} at byte {}",
                c as char, self.i
            ))),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, Syntax> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(Syntax(format!("expected ',' or ']' at byte {}", self.i))),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, Syntax> {
        self.i += 1;
        let mut entries = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(entries));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Syntax(format!("expected a key at byte {}", self.i)));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(Syntax(format!("expected ':' at byte {}", self.i)));
            }
            self.i += 1;
            entries.push((key, self.value(depth + 1)?));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(entries));
                }
                _ => return Err(Syntax(format!("expected ',' or '}}' at byte {}", self.i))),
            }
        }
    }

    /// A number as JSON writes it, kept as text: cty numbers are exact.
    fn number(&mut self) -> Result<Json, Syntax> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let from = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i > from
        };
        let invalid = || Syntax(format!("invalid number at byte {start}"));
        if !digits(self) {
            return Err(invalid());
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(invalid());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(invalid());
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| Syntax(e.to_string()))?;
        Ok(Json::Number(text.to_string()))
    }

    fn hex4(&mut self) -> Result<u32, Syntax> {
        let chunk = self.s.get(self.i..self.i + 4).ok_or("truncated \\u escape")?;
        let text = std::str::from_utf8(chunk).map_err(|_| "invalid \\u escape")?;
        let v = u32::from_str_radix(text, 16).map_err(|_| "invalid \\u escape")?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, Syntax> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.peek().is_some_and(|c| c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).map_err(|e| Syntax(e.to_string()))?);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let esc = self.peek().ok_or("truncated escape")?;
                    self.i += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.expect("\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err("invalid surrogate pair".into());
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or("invalid \\u escape")?);
                        }
                        _ => return Err(Syntax(format!("invalid escape at byte {}", self.i))),
                    }
                }
                _ => return Err("unterminated string".into()),
            }
        }
    }
}

fn from_json(json: &Json, ty: &Type, path: &AttributePath, lenient: bool) -> Result<Value, CodecError> {
    if let Json::Null = json {
        return Ok(Value::Null);
    }
    let mismatch = |want: &str| CodecError::new(format!("expected {want}"), path);
    match (ty, json) {
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
        (Type::Number, Json::Number(n) | Json::String(n)) => Number::from_str(n)
            .map(Value::Number)
            .map_err(|e| CodecError::new(e, path)),
        (Type::List(elem) | Type::Set(elem), Json::Array(items)) => {
            let values = items
                .iter()
                .enumerate()
                .map(|(i, x)| from_json(x, elem, &path.push_index(i), lenient))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(values)
            } else {
                Value::Set(values)
            })
        }
        (Type::Tuple(elems), Json::Array(items)) if items.len() == elems.len() => Ok(Value::Tuple(
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (x, t))| from_json(x, t, &path.push_index(i), lenient))
                .collect::<Result<_, _>>()?,
        )),
        (Type::Map(elem), Json::Object(entries)) => Ok(Value::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, elem, &path.push_key(k), lenient)?)))
                .collect::<Result<BTreeMap<_, _>, CodecError>>()?,
        )),
        (Type::Object { attributes, .. }, Json::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let Some(attr_ty) = attributes.get(k) else {
                    if lenient {
                        continue;
                    }
                    return Err(CodecError::new(format!("unsupported attribute {k:?}"), path));
                };
                out.insert(k.clone(), from_json(v, attr_ty, &path.push_attr(k), lenient)?);
            }
            // State JSON may omit attributes; absent means null.
            for name in attributes.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, Json::Object(entries)) => {
            let find = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
            let (Some(type_json), Some(inner)) = (find("type"), find("value")) else {
                return Err(mismatch("a {\"value\",\"type\"} object"));
            };
            let concrete = Type::from_json(&to_serde(type_json)).map_err(|e| CodecError::new(e.message, path))?;
            let value = from_json(inner, &concrete, path, lenient)?;
            Ok(Value::Dynamic(concrete, Box::new(value)))
        }
        (Type::Bool, _) => Err(mismatch("a bool")),
        (Type::String, _) => Err(mismatch("a string")),
        (Type::Number, _) => Err(mismatch("a number")),
        (Type::Map(_) | Type::Object { .. }, _) => Err(mismatch("an object")),
        (Type::Dynamic, _) => Err(mismatch("a {\"value\",\"type\"} object")),
        _ => Err(mismatch("an array of the right length")),
    }
}

/// Type JSON never holds numbers, so serde_json is lossless here.
fn to_serde(json: &Json) -> serde_json::Value {
    match json {
        Json::Null => serde_json::Value::Null,
        Json::Bool(b) => serde_json::Value::Bool(*b),
        Json::Number(n) => serde_json::Value::String(n.clone()),
        Json::String(s) => serde_json::Value::String(s.clone()),
        Json::Array(xs) => serde_json::Value::Array(xs.iter().map(to_serde).collect()),
        Json::Object(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect()),
    }
}

fn write_json(out: &mut String, value: &Value, ty: &Type, path: &AttributePath) -> Result<(), CodecError> {
    match (value, ty) {
        (Value::Null, _) => out.push_str("null"),
        (Value::Unknown(_), _) => return Err(CodecError::new("JSON cannot hold unknown values", path)),
        (Value::Bool(b), Type::Bool) => out.push_str(if *b { "true" } else { "false" }),
        (Value::String(s), Type::String) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
        (Value::Number(n), Type::Number) => match n.to_wire() {
            WireNumber::Int(v) => {
                let _ = write!(out, "{v}");
            }
            WireNumber::UInt(v) => {
                let _ = write!(out, "{v}");
            }
            _ => out.push_str(&n.to_string()),
        },
        (Value::List(xs), Type::List(e)) | (Value::Set(xs), Type::Set(e)) => write_items(
            out,
            xs.iter().enumerate().map(|(i, x)| (x, e.as_ref(), path.push_index(i))),
        )?,
        (Value::Tuple(xs), Type::Tuple(es)) if xs.len() == es.len() => write_items(
            out,
            xs.iter()
                .zip(es)
                .enumerate()
                .map(|(i, (x, e))| (x, e, path.push_index(i))),
        )?,
        (Value::Map(m), Type::Map(e)) => write_entries(
            out,
            m.iter().map(|(k, v)| (k.as_str(), v, e.as_ref(), path.push_key(k))),
        )?,
        (Value::Object(m), Type::Object { attributes, .. }) => write_entries(
            out,
            attributes
                .iter()
                .map(|(k, t)| (k.as_str(), m.get(k).unwrap_or(&Value::Null), t, path.push_attr(k))),
        )?,
        (Value::Dynamic(concrete, inner), Type::Dynamic) => {
            out.push_str("{\"value\":");
            write_json(out, inner, concrete, path)?;
            out.push_str(",\"type\":");
            out.push_str(&concrete.to_json().to_string());
            out.push('}');
        }
        _ => {
            return Err(CodecError::new(
                format!("{} value cannot be encoded as {}", value.kind(), ty.to_json()),
                path,
            ))
        }
    }
    Ok(())
}

/// `[v,…]` of `(value, type, path)` items.
fn write_items<'a>(
    out: &mut String,
    items: impl Iterator<Item = (&'a Value, &'a Type, AttributePath)>,
) -> Result<(), CodecError> {
    out.push('[');
    for (i, (v, t, p)) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json(out, v, t, &p)?;
    }
    out.push(']');
    Ok(())
}

/// `{"k":v,…}` of `(key, value, type, path)` entries.
fn write_entries<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a str, &'a Value, &'a Type, AttributePath)>,
) -> Result<(), CodecError> {
    out.push('{');
    for (i, (k, v, t, p)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(k.to_string()).to_string());
        out.push(':');
        write_json(out, v, t, &p)?;
    }
    out.push('}');
    Ok(())
}
