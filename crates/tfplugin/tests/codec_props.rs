//! The value codec: round-trip properties over generated types and values,
//! and fixtures of the msgpack forms Terraform sends.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use proptest::prelude::*;
use tfplugin::codec::{decode_json, decode_msgpack, encode_json, encode_msgpack, Number, Refinements, Type, Value};

fn leaf_type() -> impl Strategy<Value = Type> {
    prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)]
}

fn any_type() -> impl Strategy<Value = Type> {
    leaf_type().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Type::Tuple),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4).prop_map(|attributes| Type::Object {
                attributes,
                optional: BTreeSet::new(),
            }),
            Just(Type::Dynamic),
        ]
    })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        (-1e300f64..1e300).prop_filter_map("finite", Number::from_f64),
        "-?[1-9][0-9]{0,40}(\\.[0-9]{1,30})?".prop_map(|s| Number::from_str(&s).unwrap()),
    ]
}

/// A value of `ty`; `allow_unknown` is false for JSON, which has none.
fn value_of(ty: Type, allow_unknown: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty.clone() {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => number().prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(value_of(*e, allow_unknown), 0..3)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(value_of(*e, allow_unknown), 0..3)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map("[a-z]{1,4}", value_of(*e, allow_unknown), 0..3)
            .prop_map(Value::Map)
            .boxed(),
        Type::Tuple(es) => es
            .into_iter()
            .map(|e| value_of(e, allow_unknown))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object { attributes, .. } => attributes
            .into_iter()
            .map(|(k, t)| value_of(t, allow_unknown).prop_map(move |v| (k.clone(), v)))
            .collect::<Vec<_>>()
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<BTreeMap<_, _>>()))
            .boxed(),
        Type::Dynamic => leaf_type()
            .prop_flat_map(move |t| {
                value_of(t.clone(), allow_unknown).prop_map(move |v| Value::Dynamic(t.clone(), Box::new(v)))
            })
            .boxed(),
    };
    let mut options = vec![(6, known), (1, Just(Value::Null).boxed())];
    if allow_unknown {
        options.push((1, Just(Value::unknown()).boxed()));
        options.push((
            1,
            Just(Value::Unknown(Refinements {
                is_null: Some(false),
                string_prefix: Some("abc-".into()),
                ..Refinements::default()
            }))
            .boxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn msgpack_round_trips(pair in any_type().prop_flat_map(|t| (Just(t.clone()), value_of(t, true)))) {
        let (ty, value) = pair;
        let bytes = encode_msgpack(&value, &ty).unwrap();
        prop_assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn json_round_trips(pair in any_type().prop_flat_map(|t| (Just(t.clone()), value_of(t, false)))) {
        let (ty, value) = pair;
        let text = encode_json(&value, &ty).unwrap();
        prop_assert_eq!(decode_json(text.as_bytes(), &ty).unwrap(), value);
    }

    #[test]
    fn type_json_round_trips(ty in any_type()) {
        prop_assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).unwrap(), ty);
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), ty in any_type()) {
        let _ = decode_msgpack(&bytes, &ty);
        let _ = decode_json(&bytes, &ty);
        let _ = Type::from_json_bytes(&bytes);
    }
}

fn obj(attrs: &[(&str, Type)]) -> Type {
    Type::object(attrs.iter().map(|(k, t)| (*k, t.clone())))
}

#[test]
fn terraform_fixtures_decode() {
    // Objects from Terraform: every attribute, computed ones nil, keys sorted.
    let ty = obj(&[("id", Type::String), ("input", Type::String)]);
    let bytes = b"\x82\xa2id\xc0\xa5input\xa2hi";
    assert_eq!(
        decode_msgpack(bytes, &ty).unwrap(),
        Value::object([("id", Value::Null), ("input", Value::string("hi"))])
    );
    // Plain unknown, and the refined unknowns Terraform 1.11 sends for
    // uuid() and "abc-${uuid()}".
    assert_eq!(decode_msgpack(&[0xd4, 0, 0], &Type::String).unwrap(), Value::unknown());
    let uuid = decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], &Type::String).unwrap();
    assert_eq!(
        uuid,
        Value::Unknown(Refinements {
            is_null: Some(false),
            ..Refinements::default()
        })
    );
    let prefixed = decode_msgpack(b"\xc7\x09\x0c\x82\x01\xc2\x02\xa4abc-", &Type::String).unwrap();
    match &prefixed {
        Value::Unknown(r) => assert_eq!(r.string_prefix.as_deref(), Some("abc-")),
        other => panic!("{other:?}"),
    }
    // Re-encoding keeps the refinement.
    assert_eq!(
        decode_msgpack(&encode_msgpack(&prefixed, &Type::String).unwrap(), &Type::String).unwrap(),
        prefixed
    );
    // Big numbers: int64, uint64 beyond i64, and a decimal string.
    assert_eq!(
        decode_msgpack(&[0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &Type::Number).unwrap(),
        Value::Number(Number::from_i64(i64::MAX))
    );
    let big = b"\xbe123456789012345678901234567890";
    assert_eq!(
        decode_msgpack(big, &Type::Number).unwrap(),
        Value::Number(Number::from_str("123456789012345678901234567890").unwrap())
    );
    assert_eq!(
        encode_msgpack(&decode_msgpack(big, &Type::Number).unwrap(), &Type::Number).unwrap(),
        big
    );
    let decimal = Value::Number(Number::from_str("0.1").unwrap());
    assert_eq!(encode_msgpack(&decimal, &Type::Number).unwrap(), b"\xa30.1");
    // Dynamic: [bin(type JSON), value].
    let dynamic = b"\x92\xc4\x08\"string\"\xa2hi";
    assert_eq!(
        decode_msgpack(dynamic, &Type::Dynamic).unwrap(),
        Value::Dynamic(Type::String, Box::new(Value::string("hi")))
    );
    assert_eq!(
        encode_msgpack(&decode_msgpack(dynamic, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap(),
        dynamic
    );
}

#[test]
fn json_keeps_precision_and_reads_dynamic_values() {
    let ty = obj(&[("n", Type::Number), ("d", Type::Dynamic)]);
    let text = br#"{"n": 123456789012345678901234567890.000000000000000001, "d": {"value": ["a"], "type": ["list", "string"]}}"#;
    let v = decode_json(text, &ty).unwrap();
    assert_eq!(
        v.get("n"),
        &Value::Number(Number::from_str("123456789012345678901234567890.000000000000000001").unwrap())
    );
    assert_eq!(
        v.get("d"),
        &Value::Dynamic(
            Type::list(Type::String),
            Box::new(Value::List(vec![Value::string("a")]))
        )
    );
    let again = encode_json(&v, &ty).unwrap();
    assert_eq!(decode_json(again.as_bytes(), &ty).unwrap(), v);
}

#[test]
fn objects_must_match_their_type() {
    let ty = obj(&[("a", Type::String)]);
    let extra = b"\x82\xa1a\xc0\xa1b\xc0";
    assert!(decode_msgpack(extra, &ty)
        .unwrap_err()
        .to_string()
        .contains("unsupported attribute"));
    let missing = b"\x80";
    assert!(decode_msgpack(missing, &ty).is_err());
    assert!(decode_msgpack(b"\xa1a\x00", &Type::String)
        .unwrap_err()
        .to_string()
        .contains("trailing"));
}
