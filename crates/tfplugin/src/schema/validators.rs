//! Reusable attribute validators. They run in the `Validate*Config` RPCs, on
//! known values only: an unknown value is checked again once it is known.

use std::str::FromStr;
use std::time::Duration;

use crate::codec::{AttributePath, Value};
use crate::diag::Diagnostics;

pub trait Validator: Send + Sync {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics);
}

/// A string length in characters, inclusive bounds.
pub struct StringLength {
    pub min: usize,
    pub max: usize,
}

impl Validator for StringLength {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let n = s.chars().count();
        if n < self.min || n > self.max {
            diags.error_at(
                path.clone(),
                "Invalid attribute length",
                format!(
                    "{path} must be between {} and {} characters long; it is {n}.",
                    self.min, self.max
                ),
            );
        }
    }
}

/// SEI trims names; a value with surrounding blanks would never converge.
pub struct NoSurroundingSpace;

impl Validator for NoSurroundingSpace {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if s.trim() != s {
            diags.error_at(
                path.clone(),
                "Leading or trailing whitespace",
                format!(
                    "{path} must not start or end with whitespace: the API trims it, so the plan would never settle."
                ),
            );
        }
    }
}

pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if !self.0.contains(&s) {
            let allowed: Vec<String> = self.0.iter().map(|a| format!("{a:?}")).collect();
            diags.error_at(
                path.clone(),
                "Invalid value",
                format!("{path} must be one of {}; got {s:?}.", allowed.join(", ")),
            );
        }
    }
}

/// An absolute http(s) URL.
pub struct HttpUrl;

impl Validator for HttpUrl {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            diags.error_at(
                path.clone(),
                "Invalid URL",
                format!("{path} contains whitespace or a control character."),
            );
            return;
        }
        let parsed = url::Url::parse(s).ok();
        if let Some(u) = parsed
            .as_ref()
            .filter(|u| !u.username().is_empty() || u.password().is_some())
        {
            // Never echo user info: it is a credential.
            diags.error_at(
                path.clone(),
                "Credentials in a URL",
                format!(
                    "{path} carries user info (user:password@), for host {:?}. Credentials never belong in a URL.",
                    u.host_str().unwrap_or_default()
                ),
            );
            return;
        }
        let ok =
            parsed.filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
        if ok.is_none() {
            let shown = if s.contains('@') { "<a URL with user info>" } else { s };
            diags.error_at(
                path.clone(),
                "Invalid URL",
                format!("{path} must be an absolute http:// or https:// URL; got {shown:?}."),
            );
        }
    }
}

/// A Go-style duration such as `30s`, `1m30s` or `500ms`.
pub struct GoDuration {
    pub min: Duration,
    pub max: Duration,
}

impl Validator for GoDuration {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        match parse_go_duration(s) {
            Ok(d) if d >= self.min && d <= self.max => {}
            Ok(_) => diags.error_at(
                path.clone(),
                "Duration out of range",
                format!("{path} must be from {:?} to {:?}; got {s:?}.", self.min, self.max),
            ),
            Err(e) => diags.error_at(path.clone(), "Invalid duration", format!("{path}: {e}")),
        }
    }
}

/// An integer in an inclusive range.
pub struct IntRange {
    pub min: i64,
    pub max: i64,
}

impl Validator for IntRange {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(n) = value.as_number() else { return };
        match n.as_i64() {
            Some(v) if v >= self.min && v <= self.max => {}
            _ => diags.error_at(
                path.clone(),
                "Value out of range",
                format!(
                    "{path} must be a whole number from {} to {}; got {n}.",
                    self.min, self.max
                ),
            ),
        }
    }
}

/// Why one value is refused, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Every element of a string collection matches `check`.
pub struct EachString {
    pub check: fn(&str) -> Result<(), Invalid>,
}

impl Validator for EachString {
    /// One diagnostic for the attribute, naming the first few bad elements
    /// and counting the rest: a list of thousands stays readable.
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let problems: Vec<String> = value
            .elements()
            .iter()
            .filter_map(|item| item.as_str().and_then(|s| (self.check)(s).err()).map(|e| e.0))
            .collect();
        if problems.is_empty() {
            return;
        }
        const SHOWN: usize = 5;
        let mut detail = problems.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(" ");
        if problems.len() > SHOWN {
            detail.push_str(&format!(" ({} more)", problems.len() - SHOWN));
        }
        diags.error_at(path.clone(), "Invalid element", format!("{path}: {detail}"));
    }
}

/// No control characters (NUL, newlines, escapes): APIs store them
/// verbatim or cut at them, and a plan never shows them.
pub struct NoControlChars;

impl Validator for NoControlChars {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            diags.error_at(
                path.clone(),
                "Control character",
                format!(
                    "{path} contains the control character U+{:04X}; remove it.",
                    u32::from(c)
                ),
            );
        }
    }
}

/// A whole number, for version counters.
pub struct WholeNumber;

impl Validator for WholeNumber {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(n) = value.as_number() {
            if n.as_i64().is_some() {
                return;
            }
            if n.is_integer() {
                diags.error_at(
                    path.clone(),
                    "Number out of range",
                    format!(
                        "{path} is a whole number too large to keep exactly: use a small one, such as 1 or 2 (the limit is {}); got {n}.",
                        i64::MAX
                    ),
                );
            } else {
                diags.error_at(
                    path.clone(),
                    "Not a whole number",
                    format!("{path} must be a whole number, such as 1 or 2; got {n}."),
                );
            }
        }
    }
}

/// Parses Go's `time.ParseDuration` syntax: a sequence of decimal numbers
/// with units `ns`, `us`, `ms`, `s`, `m`, `h`. Terraform users write
/// durations this way in every HashiCorp provider.
pub fn parse_go_duration(input: &str) -> Result<Duration, Invalid> {
    let bad = || {
        Invalid(format!(
            "{input:?} is not a duration; use a number with a unit, such as \"30s\", \"1m30s\" or \"500ms\""
        ))
    };
    let s = input.trim();
    if s.is_empty() || s.starts_with('-') {
        return Err(bad());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad());
        }
        let number = f64::from_str(&rest[..num_len]).map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    if !total.is_finite() || total > 1e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_go_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_go_duration("1.5h").unwrap(), Duration::from_secs(5400));
        for bad in ["soon", "", "30", "-1s", "1x", "s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validators_point_at_the_path() {
        let mut diags = Diagnostics::new();
        let path = AttributePath::attr("endpoint");
        HttpUrl.validate(&Value::string("not a url"), &path, &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].path.as_ref(), Some(&path));
    }

    #[test]
    fn a_huge_whole_number_is_out_of_range_not_fractional() {
        let path = AttributePath::attr("credentials_version");
        let mut diags = Diagnostics::new();
        let huge: crate::codec::Number = "1e300".parse().unwrap();
        WholeNumber.validate(&Value::Number(huge), &path, &mut diags);
        assert_eq!(diags.0[0].summary, "Number out of range");
        let mut diags = Diagnostics::new();
        let half: crate::codec::Number = "1.5".parse().unwrap();
        WholeNumber.validate(&Value::Number(half), &path, &mut diags);
        assert_eq!(diags.0[0].summary, "Not a whole number");
    }
}
