//! cty's msgpack wire format, written for the replays from go-cty's
//! `cty/msgpack/marshal.go`, `unmarshal.go` and `unknown.go` (the encoder
//! Terraform and OpenTofu use for every DynamicValue), on `rmpv` directly.
//!
//! It shares nothing with the provider's codec on purpose: a mistake there
//! would otherwise be made the same way on both sides of a test and cancel
//! out. Types come from the schema the provider advertises, read the way
//! Terraform reads it (`Block.ImpliedType` of the proto schema).

use rmpv::Value as Mp;
use serde_json::{json, Value as Json};
use tfplugin::server::proto::tfplugin6 as pb;

/// A cty type, as the JSON in `Schema.Attribute.type` spells it.
#[derive(Debug, Clone)]
pub enum Ty {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    /// Attributes in name order, which is the order cty writes them in.
    Object(Vec<(String, Ty)>),
}

impl Ty {
    pub fn from_json(j: &Json) -> Ty {
        match j {
            Json::String(s) if s == "string" => Ty::String,
            Json::String(s) if s == "number" => Ty::Number,
            Json::String(s) if s == "bool" => Ty::Bool,
            Json::String(s) if s == "dynamic" => Ty::Dynamic,
            Json::Array(a) if a.len() == 2 => {
                let inner = || Box::new(Ty::from_json(&a[1]));
                match a[0].as_str().unwrap() {
                    "list" => Ty::List(inner()),
                    "set" => Ty::Set(inner()),
                    "map" => Ty::Map(inner()),
                    "object" => object(
                        a[1].as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| (k.clone(), Ty::from_json(v))),
                    ),
                    other => panic!("unexpected type kind {other}"),
                }
            }
            other => panic!("unexpected type {other}"),
        }
    }

    /// The object type a schema block implies (configschema's ImpliedType).
    pub fn of_block(b: &pb::schema::Block) -> Ty {
        let attrs = b.attributes.iter().map(|a| {
            let t: Json = serde_json::from_slice(&a.r#type).unwrap();
            (a.name.clone(), Ty::from_json(&t))
        });
        let blocks = b.block_types.iter().map(|n| {
            let inner = Ty::of_block(n.block.as_ref().unwrap());
            let t = match pb::schema::nested_block::NestingMode::try_from(n.nesting).unwrap() {
                pb::schema::nested_block::NestingMode::List => Ty::List(Box::new(inner)),
                pb::schema::nested_block::NestingMode::Set => Ty::Set(Box::new(inner)),
                pb::schema::nested_block::NestingMode::Single => inner,
                other => panic!("nesting {other:?} not used by this provider"),
            };
            (n.type_name.clone(), t)
        });
        object(attrs.chain(blocks))
    }
}

fn object(attrs: impl Iterator<Item = (String, Ty)>) -> Ty {
    let mut v: Vec<(String, Ty)> = attrs.collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ty::Object(v)
}

/// A value not known yet, in the JSON the replays write values in.
pub fn unknown() -> Json {
    json!({"$unknown": true})
}

pub fn is_unknown(v: &Json) -> bool {
    v.get("$unknown").is_some()
}

/// cty's `Marshal(val, ty)`: nil for null, fixext1 type 0 for unknown,
/// a map over every attribute of an object (missing ones are null).
pub fn encode(v: &Json, ty: &Ty) -> Mp {
    if v.is_null() {
        return Mp::Nil;
    }
    if is_unknown(v) {
        return Mp::Ext(0, vec![0]);
    }
    match ty {
        Ty::String => Mp::from(v.as_str().unwrap_or_else(|| panic!("{v} is not a string"))),
        Ty::Bool => Mp::Boolean(v.as_bool().unwrap()),
        Ty::Number => match (v.as_i64(), v.as_f64()) {
            (Some(i), _) => Mp::from(i),
            (None, Some(f)) => Mp::F64(f),
            _ => panic!("{v} is not a number"),
        },
        Ty::List(e) | Ty::Set(e) => Mp::Array(v.as_array().unwrap().iter().map(|x| encode(x, e)).collect()),
        Ty::Map(e) => {
            let mut entries: Vec<(&String, &Json)> = v.as_object().unwrap().iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Mp::Map(
                entries
                    .into_iter()
                    .map(|(k, x)| (Mp::from(k.as_str()), encode(x, e)))
                    .collect(),
            )
        }
        Ty::Object(attrs) => {
            let given = v.as_object().unwrap_or_else(|| panic!("{v} is not an object"));
            for k in given.keys() {
                assert!(attrs.iter().any(|(n, _)| n == k), "no attribute {k} in the schema");
            }
            Mp::Map(
                attrs
                    .iter()
                    .map(|(k, t)| (Mp::from(k.as_str()), encode(given.get(k).unwrap_or(&Json::Null), t)))
                    .collect(),
            )
        }
        Ty::Dynamic => panic!("dynamic values are not used by this provider"),
    }
}

pub fn dynamic(v: &Json, ty: &Ty) -> pb::DynamicValue {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &encode(v, ty)).unwrap();
    pb::DynamicValue {
        msgpack: out,
        json: vec![],
    }
}

/// cty's `Unmarshal`, into JSON: unknowns (ext 0, or ext 12 with
/// refinements) become [`unknown`].
pub fn decode(d: &Option<pb::DynamicValue>) -> Json {
    let bytes = &d.as_ref().expect("a value").msgpack;
    let mut rd = &bytes[..];
    let v = rmpv::decode::read_value(&mut rd).unwrap();
    assert!(rd.is_empty(), "trailing bytes after the value");
    to_json(&v)
}

fn to_json(v: &Mp) -> Json {
    match v {
        Mp::Nil => Json::Null,
        Mp::Boolean(b) => json!(b),
        Mp::Integer(i) => i.as_i64().map(|n| json!(n)).unwrap_or_else(|| json!(i.as_u64())),
        Mp::F32(f) => json!(f),
        Mp::F64(f) => json!(f),
        Mp::String(s) => json!(s.as_str().unwrap()),
        Mp::Binary(_) => panic!("cty never writes binary"),
        Mp::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Mp::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), to_json(v)))
                .collect(),
        ),
        Mp::Ext(0 | 12, _) => unknown(),
        Mp::Ext(t, _) => panic!("unexpected msgpack extension {t}"),
    }
}

/// Terraform's proposed new state (`objchange.ProposedNew`): the config,
/// with the prior value where a computed attribute is left null; nested
/// blocks item by item.
pub fn proposed_new(b: &pb::schema::Block, prior: &Json, config: &Json) -> Json {
    if config.is_null() {
        return Json::Null;
    }
    let mut out = serde_json::Map::new();
    for a in &b.attributes {
        let c = config.get(&a.name).cloned().unwrap_or(Json::Null);
        let v = if c.is_null() && a.computed {
            prior.get(&a.name).cloned().unwrap_or(Json::Null)
        } else {
            c
        };
        out.insert(a.name.clone(), v);
    }
    for n in &b.block_types {
        let inner = n.block.as_ref().unwrap();
        let priors = prior
            .get(&n.type_name)
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default();
        let items = config
            .get(&n.type_name)
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, c)| proposed_new(inner, priors.get(i).unwrap_or(&Json::Null), c))
            .collect();
        out.insert(n.type_name.clone(), Json::Array(items));
    }
    Json::Object(out)
}

#[test]
fn unknown_is_cty_fixext1_and_objects_carry_every_attribute_in_name_order() {
    let ty = object([("b".to_string(), Ty::String), ("a".to_string(), Ty::Number)].into_iter());
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &encode(&json!({"b": unknown()}), &ty)).unwrap();
    // fixmap(2) "a" nil "b" fixext1(type 0, 0)
    assert_eq!(out, [0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xd4, 0x00, 0x00]);
}
