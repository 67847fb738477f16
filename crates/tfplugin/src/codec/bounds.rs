//! Limits on the work one value may cost, checked before it is decoded.
//!
//! Every RPC carries values Terraform (or a hand-edited state file) made. A
//! msgpack array header can promise four billion elements in five bytes, and
//! decoding 32 MiB of nils into trees costs gigabytes. So the raw bytes are
//! walked first, without allocating: at most [`MAX_VALUES`] values and
//! [`MAX_DEPTH`] levels of nesting, and no length larger than the bytes that
//! are left. Decoding then costs a small, fixed multiple of the input.

use super::{AttributePath, CodecError};

/// No schema of ours comes near: a resource has tens of values, the largest
/// list data source a few tens of thousands.
pub const MAX_VALUES: usize = 250_000;

/// Our schemas nest four levels deep.
pub const MAX_DEPTH: usize = 64;

fn too_big(what: &str) -> CodecError {
    CodecError::new(
        format!("the value is too large to decode: {what}"),
        &AttributePath::root(),
    )
}

/// Walks one msgpack value (and nothing after it) and checks the limits.
pub fn check_msgpack(bytes: &[u8]) -> Result<(), CodecError> {
    let mut at = 0usize;
    // Items still to read at each open level.
    let mut pending: Vec<usize> = vec![1];
    let mut values = 0usize;
    let truncated = || CodecError::new("malformed msgpack: truncated", &AttributePath::root());
    let take = |at: &mut usize, n: usize| -> Result<usize, CodecError> {
        let start = *at;
        let end = start
            .checked_add(n)
            .filter(|e| *e <= bytes.len())
            .ok_or_else(truncated)?;
        *at = end;
        Ok(start)
    };
    let be = |slice: &[u8]| slice.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    while let Some(top) = pending.last_mut() {
        if *top == 0 {
            pending.pop();
            continue;
        }
        *top -= 1;
        values += 1;
        if values > MAX_VALUES {
            return Err(too_big(&format!("more than {MAX_VALUES} values")));
        }
        let marker = bytes[take(&mut at, 1)?];
        // (payload bytes to skip, child items to read)
        let (skip, children) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * usize::from(marker & 0x0f)),
            0x90..=0x9f => (0, usize::from(marker & 0x0f)),
            0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
            0xc4 | 0xd9 => (be(&bytes[take(&mut at, 1)?..at]), 0),
            0xc5 | 0xda => (be(&bytes[take(&mut at, 2)?..at]), 0),
            0xc6 | 0xdb => (be(&bytes[take(&mut at, 4)?..at]), 0),
            0xc7 => (be(&bytes[take(&mut at, 1)?..at]) + 1, 0),
            0xc8 => (be(&bytes[take(&mut at, 2)?..at]) + 1, 0),
            0xc9 => (be(&bytes[take(&mut at, 4)?..at]) + 1, 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, be(&bytes[take(&mut at, 2)?..at])),
            0xdd => (0, be(&bytes[take(&mut at, 4)?..at])),
            0xde => (0, 2 * be(&bytes[take(&mut at, 2)?..at])),
            0xdf => (0, 2 * be(&bytes[take(&mut at, 4)?..at])),
            0xc1 => {
                return Err(CodecError::new(
                    "malformed msgpack: reserved marker 0xc1",
                    &AttributePath::root(),
                ))
            }
        };
        take(&mut at, skip)?;
        if children > 0 {
            // Every item takes at least one byte: a longer promise is a lie.
            if children > bytes.len() - at {
                return Err(truncated());
            }
            if pending.len() > MAX_DEPTH {
                return Err(too_big(&format!("nested more than {MAX_DEPTH} levels")));
            }
            pending.push(children);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(v: &rmpv::Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn ordinary_values_pass() {
        let v = rmpv::Value::Map(vec![
            ("name".into(), "bb-prod".into()),
            (
                "tags".into(),
                rmpv::Value::Array(vec!["1".into(), 2.into(), rmpv::Value::Nil]),
            ),
            ("n".into(), rmpv::Value::F64(1.5)),
            ("u".into(), rmpv::Value::Ext(12, vec![0x80])),
            ("b".into(), rmpv::Value::Binary(vec![1; 300])),
        ]);
        check_msgpack(&encode(&v)).unwrap();
    }

    #[test]
    fn a_header_that_promises_more_than_the_bytes_is_refused_at_once() {
        let err = check_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]).unwrap_err();
        assert!(err.message.contains("truncated"), "{err}");
        assert!(check_msgpack(&[0xdb, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(check_msgpack(&[]).is_err());
    }

    #[test]
    fn too_many_values_or_too_deep_is_refused() {
        let mut many = vec![0xdd];
        many.extend_from_slice(&(MAX_VALUES as u32 + 1).to_be_bytes());
        many.extend(std::iter::repeat_n(0xc0, MAX_VALUES + 1));
        let err = check_msgpack(&many).unwrap_err();
        assert!(err.message.contains("more than 250000 values"), "{err}");
        let deep: Vec<u8> = std::iter::repeat_n(0x91, 100).chain([0xc0]).collect();
        let err = check_msgpack(&deep).unwrap_err();
        assert!(err.message.contains("nested more than 64 levels"), "{err}");
    }
}
