use std::fmt;
use std::str::FromStr;

use bigdecimal::{BigDecimal, ToPrimitive};

/// A cty number: arbitrary precision, compared by value.
///
/// Terraform numbers are big decimals. Keeping them in `f64` or `i64` would
/// silently change a large id or a long decimal between plan and apply, which
/// Terraform reports as an inconsistent result.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(BigDecimal);

/// How a number goes onto the msgpack wire, following cty: the smallest exact
/// form wins.
pub(crate) enum WireNumber {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
}

impl Number {
    pub fn from_i64(v: i64) -> Self {
        Number(BigDecimal::from(v))
    }

    pub fn from_u64(v: u64) -> Self {
        Number(BigDecimal::from(v))
    }

    /// Exact binary value of a finite float; `None` for NaN and infinities,
    /// which no attribute of ours can hold.
    pub fn from_f64(v: f64) -> Option<Self> {
        BigDecimal::try_from(v).ok().map(Number)
    }

    /// Whether the value has no fractional part, whatever its magnitude.
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    pub fn as_i64(&self) -> Option<i64> {
        if self.0.is_integer() {
            self.0.to_i64()
        } else {
            None
        }
    }

    pub(crate) fn to_wire(&self) -> WireNumber {
        if self.0.is_integer() {
            if let Some(v) = self.0.to_i64() {
                return WireNumber::Int(v);
            }
            if let Some(v) = self.0.to_u64() {
                return WireNumber::UInt(v);
            }
        }
        if let Some(f) = self.0.to_f64() {
            if f.is_finite() && BigDecimal::try_from(f).ok().as_ref() == Some(&self.0) {
                return WireNumber::Float(f);
            }
        }
        WireNumber::Text(self.to_string())
    }
}

/// Decimal orders of magnitude a number may have, either way: f64 reaches
/// about 1e308, and no attribute of ours needs more.
const MAX_EXPONENT: i64 = 400;

fn short(text: &str) -> String {
    if text.len() > 40 {
        format!(
            "{}…",
            &text[..text.char_indices().nth(40).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text.to_string()
    }
}

impl FromStr for Number {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.is_empty() || trimmed.len() > 4096 {
            return Err(format!("{s:?} is not a number"));
        }
        let n = BigDecimal::from_str(trimmed).map_err(|_| format!("{s:?} is not a number"))?;
        // 1e999999999 parses in microseconds, but turning it into digits
        // takes minutes and gigabytes. No attribute holds a number beyond
        // what a float can: refuse it now.
        let (digits, scale) = n.as_bigint_and_exponent();
        let magnitude = i64::try_from(digits.to_string().trim_start_matches('-').len()).unwrap_or(i64::MAX) - scale;
        if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&magnitude) || scale.abs() > 2 * MAX_EXPONENT {
            return Err(format!(
                "the number {} is beyond what any attribute can hold (more than {MAX_EXPONENT} decimal digits of magnitude)",
                short(trimmed)
            ));
        }
        Ok(Number(n))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let normal = self.0.normalized();
        let (_, exponent) = normal.as_bigint_and_exponent();
        // Plain notation for everyday magnitudes; scientific beyond, so a
        // hostile 1e999999 does not print a million zeros.
        if exponent.abs() < 64 {
            let plain = normal.to_plain_string();
            f.write_str(&plain)
        } else {
            write!(f, "{normal}")
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number::from_i64(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_the_smallest_exact_wire_form() {
        assert!(matches!(Number::from_i64(-7).to_wire(), WireNumber::Int(-7)));
        assert!(matches!(
            Number::from_u64(u64::MAX).to_wire(),
            WireNumber::UInt(u64::MAX)
        ));
        assert!(matches!(Number::from_str("0.5").unwrap().to_wire(), WireNumber::Float(f) if f == 0.5));
        match Number::from_str("0.1").unwrap().to_wire() {
            WireNumber::Text(t) => assert_eq!(t, "0.1"),
            _ => panic!("0.1 has no exact binary form and must travel as text"),
        }
        match Number::from_str("123456789012345678901234567890").unwrap().to_wire() {
            WireNumber::Text(t) => assert_eq!(t, "123456789012345678901234567890"),
            _ => panic!("a big integer must travel as text"),
        }
    }

    #[test]
    fn compares_by_value() {
        assert_eq!(Number::from_str("1.50").unwrap(), Number::from_str("1.5").unwrap());
        assert_eq!(Number::from_str("1.0").unwrap().to_string(), "1");
    }

    #[test]
    fn numbers_no_attribute_can_hold_are_refused_at_once() {
        for hostile in ["1e999999999", "-1e999999999", "1e-999999999", "1e402", "1e-402"] {
            let err = Number::from_str(hostile).unwrap_err();
            assert!(err.contains("beyond what any attribute can hold"), "{hostile}: {err}");
        }
        assert!(Number::from_str(&"9".repeat(500)).is_err());
        assert_eq!(Number::from_str("1e300").unwrap().to_string(), "1e+300");
        assert_eq!(
            Number::from_str("12345678901234567890").unwrap().to_string(),
            "12345678901234567890"
        );
        // The state file path: a hostile created_at is an error, not minutes of work.
        let ty = crate::codec::Type::object([("created_at", crate::codec::Type::Number)]);
        assert!(crate::codec::decode_state_json(br#"{"created_at": 1e999999999}"#, &ty).is_err());
    }
}
