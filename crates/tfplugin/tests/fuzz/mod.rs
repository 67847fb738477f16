//! The codec fuzzer: hostile and random `DynamicValue` bytes, decoded
//! against schema-shaped types as every RPC decodes them. Shared by the
//! bounded pass in `tests/codec_fuzz.rs` (CI) and the long run in
//! `examples/fuzz_codec.rs` (`scripts/fuzz.sh`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tfplugin::codec::{decode_json, decode_msgpack, decode_state_json, encode_json, encode_msgpack, Type};

/// What one run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub inputs: u64,
    pub decoded: u64,
    pub panics: u64,
    pub slowest: Duration,
    pub slowest_input: Vec<u8>,
}

/// A resource-shaped type, like the ones our schemas produce.
pub fn types() -> Vec<Type> {
    let credential = Type::object([
        ("username", Type::String),
        ("password", Type::String),
        ("password_wo", Type::String),
    ]);
    vec![
        Type::object([
            ("id", Type::String),
            ("name", Type::String),
            ("tags", Type::set(Type::String)),
            ("created_at", Type::Number),
            ("satellite", Type::Bool),
            ("credential", Type::list(credential)),
        ]),
        Type::list(Type::Number),
        Type::Dynamic,
    ]
}

/// The regression classes: each once cost minutes, gigabytes or the process.
pub fn regressions() -> Vec<Vec<u8>> {
    let mut out = vec![
        // An array header promising four billion elements.
        vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
        // A map header promising two billion pairs.
        vec![0xdf, 0x7f, 0xff, 0xff, 0xff],
        // A string claiming 4 GiB.
        vec![0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
        // Ten thousand levels of nesting.
        std::iter::repeat_n(0x91, 10_000).chain([0xc0]).collect(),
        br#"{"id":"1","name":"a","tags":[],"created_at":1e999999999,"satellite":true,"credential":[]}"#.to_vec(),
        br#"[1e999999999, -1e-999999999, 123456789012345678901234567890]"#.to_vec(),
        std::iter::repeat_n(b'[', 100_000).collect(),
    ];
    // 300,000 nils: more values than any request may hold.
    let mut nils = vec![0xdd];
    nils.extend_from_slice(&300_000u32.to_be_bytes());
    nils.extend(std::iter::repeat_n(0xc0, 300_000));
    out.push(nils);
    // A number too large for any attribute, as msgpack text.
    let mut text = vec![0xd9, 11];
    text.extend_from_slice(b"1e999999999");
    out.push(text);
    out
}

fn random_msgpack(rng: &mut SmallRng, depth: u32, out: &mut Vec<u8>) {
    let pick = if depth > 5 {
        rng.random_range(0..6)
    } else {
        rng.random_range(0..10)
    };
    match pick {
        0 => out.push(0xc0),
        1 => out.push(if rng.random() { 0xc3 } else { 0xc2 }),
        2 => out.push(rng.random_range(0..0x80)),
        3 => {
            out.push(0xcb);
            out.extend_from_slice(&rng.random::<f64>().to_be_bytes());
        }
        4 => {
            let len = rng.random_range(0..20u8);
            out.push(0xa0 | len);
            out.extend((0..len).map(|_| rng.random_range(b'a'..=b'z')));
        }
        5 => {
            // cty's unknown, with random refinement bytes.
            let len = rng.random_range(0..8u8);
            out.extend_from_slice(&[0xc7, len, 12]);
            out.extend((0..len).map(|_| rng.random::<u8>()));
        }
        6 | 7 => {
            let n = rng.random_range(0..6u8);
            out.push(0x90 | n);
            for _ in 0..n {
                random_msgpack(rng, depth + 1, out);
            }
        }
        _ => {
            let names = [
                "id",
                "name",
                "tags",
                "created_at",
                "satellite",
                "credential",
                "username",
                "password",
            ];
            let n = rng.random_range(0..7u8);
            out.push(0x80 | n);
            for _ in 0..n {
                let k = names[rng.random_range(0..names.len())];
                out.push(0xa0 | k.len() as u8);
                out.extend_from_slice(k.as_bytes());
                random_msgpack(rng, depth + 1, out);
            }
        }
    }
}

fn mutate(rng: &mut SmallRng, bytes: &mut Vec<u8>) {
    for _ in 0..rng.random_range(0..4) {
        if bytes.is_empty() {
            bytes.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..4) {
            0 => bytes[at] = rng.random(),
            1 => bytes.insert(at, rng.random()),
            2 => bytes.truncate(at),
            _ => bytes[at] ^= 1 << rng.random_range(0..8),
        }
    }
}

fn random_json(rng: &mut SmallRng, depth: u32, out: &mut String) {
    match if depth > 5 {
        rng.random_range(0..4)
    } else {
        rng.random_range(0..6)
    } {
        0 => out.push_str(["null", "true", "false"][rng.random_range(0..3)]),
        1 => {
            let exp: i64 = rng.random_range(-2000..2000);
            out.push_str(&format!("{}e{exp}", rng.random_range(-999..999)));
        }
        2 => out.push_str(&format!("{}", rng.random::<i64>())),
        3 => out.push_str(&format!("\"s{}\\u00{:02x}\"", rng.random::<u16>(), rng.random::<u8>())),
        4 => {
            out.push('[');
            for i in 0..rng.random_range(0..5) {
                if i > 0 {
                    out.push(',');
                }
                random_json(rng, depth + 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for (i, k) in ["id", "name", "tags", "created_at", "credential"].iter().enumerate() {
                if rng.random() {
                    if i > 0 && !out.ends_with('{') {
                        out.push(',');
                    }
                    out.push_str(&format!("\"{k}\":"));
                    random_json(rng, depth + 1, out);
                }
            }
            out.push('}');
        }
    }
}

/// One input through every decoder and, where it decodes, back out.
fn exercise(input: &[u8], types: &[Type]) -> bool {
    let mut decoded = false;
    for ty in types {
        for value in [
            decode_msgpack(input, ty),
            decode_json(input, ty),
            decode_state_json(input, ty),
        ]
        .into_iter()
        .flatten()
        {
            decoded = true;
            let _ = encode_msgpack(&value, ty);
            let _ = encode_json(&value, ty);
        }
    }
    decoded
}

/// Runs `n` generated inputs (after the regression classes) from `seed`.
pub fn run(n: u64, seed: u64) -> Outcome {
    let types = types();
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut outcome = Outcome::default();
    let one = |input: Vec<u8>, outcome: &mut Outcome| {
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| exercise(&input, &types))) {
            Ok(true) => outcome.decoded += 1,
            Ok(false) => {}
            Err(_) => outcome.panics += 1,
        }
        let took = started.elapsed();
        if took > outcome.slowest {
            outcome.slowest = took;
            outcome.slowest_input = input.iter().copied().take(64).collect();
        }
        outcome.inputs += 1;
    };
    for input in regressions() {
        one(input, &mut outcome);
    }
    for _ in 0..n {
        let input = match rng.random_range(0..10) {
            0 => (0..rng.random_range(0..48)).map(|_| rng.random::<u8>()).collect(),
            1..=2 => {
                let mut s = String::new();
                random_json(&mut rng, 0, &mut s);
                let mut b = s.into_bytes();
                if rng.random_range(0..4) == 0 {
                    mutate(&mut rng, &mut b);
                }
                b
            }
            _ => {
                let mut b = Vec::new();
                random_msgpack(&mut rng, 0, &mut b);
                if rng.random() {
                    mutate(&mut rng, &mut b);
                }
                b
            }
        };
        one(input, &mut outcome);
    }
    outcome
}

/// Peak resident memory of this process, from /proc (Linux).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
