//! Secrets that cannot leak by accident.
//!
//! API keys, Bitbucket tokens, OAuth codes and client secrets are carried in
//! [`Secret`], whose `Debug` and `Display` print `***`. A secret leaves the
//! type only through [`Secret::expose`], at the one place that puts it on the
//! wire, or through `Serialize` in request bodies sent to the APIs. That makes
//! "no secret in logs or error text" a property of the types, not of every
//! log line being careful.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the HTTP layer only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

/// Request bodies must carry the secret itself; this is the only way out
/// besides `expose`.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// A secret attribute in a typed model: decoded straight into [`Secret`], so
/// resource code never holds a token as a plain `String`.
impl tfplugin::model::FromValue for Secret {
    fn from_value(
        value: &tfplugin::codec::Value,
        path: &tfplugin::codec::AttributePath,
    ) -> Result<Self, tfplugin::model::ModelError> {
        <String as tfplugin::model::FromValue>::from_value(value, path).map(Secret)
    }
}

/// Written to state only for sensitive stored attributes (`password`);
/// write-only ones are nulled by the framework before anything leaves.
impl tfplugin::model::ToValue for Secret {
    fn to_value(&self) -> tfplugin::codec::Value {
        tfplugin::codec::Value::String(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("ATATT-hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(***))");
        assert_eq!(s.expose(), "ATATT-hunter2");
    }
}
