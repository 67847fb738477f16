//! Wire ⇄ internal translation, one function per direction.

use crate::codec::{decode_json, decode_msgpack, encode_msgpack, AttributePath, PathStep, Type, Value};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::schema::{Attribute, Block, Nesting, Schema};

use super::proto::tfplugin6 as pb;

pub fn diagnostics_to_proto(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic_to_proto).collect()
}

pub fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().map(path_to_proto),
    }
}

pub fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn path_from_proto(path: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath {
        steps: path
            .steps
            .iter()
            .filter_map(|s| {
                Some(match s.selector.as_ref()? {
                    Selector::AttributeName(n) => PathStep::Attribute(n.clone()),
                    Selector::ElementKeyString(k) => PathStep::Key(k.clone()),
                    Selector::ElementKeyInt(i) => PathStep::Index(*i),
                })
            })
            .collect(),
    }
}

/// Decodes a `DynamicValue`: msgpack when present, else JSON, else null.
/// A malformed value becomes an error diagnostic naming `what`.
pub fn decode_dynamic(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let decoded = if !dv.msgpack.is_empty() {
        decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| {
        Diagnostic::error(
            "Invalid value from Terraform",
            format!("The {what} sent by Terraform could not be decoded: {e}. This is a bug in Terraform or in the provider; please report it."),
        )
    })
}

pub fn encode_dynamic(value: &Value, ty: &Type, what: &str) -> Result<pb::DynamicValue, Diagnostic> {
    encode_msgpack(value, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider produced an invalid value",
                format!("The {what} could not be encoded: {e}. This is a bug in the provider; please report it."),
            )
        })
}

pub fn schema_to_proto(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_to_proto(&schema.block, schema.version)),
    }
}

fn block_to_proto(block: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block
            .blocks
            .iter()
            .map(|b| pb::schema::NestedBlock {
                type_name: b.name.to_string(),
                block: Some(block_to_proto(&b.block, 0)),
                nesting: match b.nesting {
                    Nesting::Single => pb::schema::nested_block::NestingMode::Single as i32,
                    Nesting::List => pb::schema::nested_block::NestingMode::List as i32,
                    Nesting::Set => pb::schema::nested_block::NestingMode::Set as i32,
                },
                min_items: b.min_items,
                max_items: b.max_items,
            })
            .collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: block.deprecated,
        deprecation_message: String::new(),
        // No block of ours is filled in by the provider (6.11).
        computed: false,
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    let mut description = a.description.clone();
    if let Some(dep) = &a.deprecation {
        description = format!("**Deprecated:** {dep} {description}");
    }
    pb::schema::Attribute {
        name: a.name.to_string(),
        r#type: a.ty.to_json_bytes(),
        nested_type: None,
        description,
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecation.is_some(),
        write_only: a.write_only,
        deprecation_message: a.deprecation.clone().unwrap_or_default(),
    }
}

pub fn identity_schema_to_proto(schema: &crate::schema::IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: schema.version,
        identity_attributes: schema
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.to_string(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;

    #[test]
    fn schema_converts_with_types_flags_and_nesting() {
        let schema = Schema::new(
            3,
            Block::new("doc")
                .attr(Attribute::required("name", Type::String).describe("The name."))
                .attr(Attribute::optional("secret_wo", Type::String).write_only().sensitive())
                .attr(Attribute::computed("id", Type::String).deprecated("use other"))
                .block(NestedBlock::list(
                    "credential",
                    Block::new("").attr(Attribute::required("username", Type::String)),
                )),
        );
        let pb = schema_to_proto(&schema);
        assert_eq!(pb.version, 3);
        let block = pb.block.unwrap();
        assert_eq!(block.description_kind, pb::StringKind::Markdown as i32);
        let name = &block.attributes[0];
        assert_eq!(
            (name.name.as_str(), name.r#type.as_slice(), name.required),
            ("name", &b"\"string\""[..], true)
        );
        assert!(block.attributes[1].write_only && block.attributes[1].sensitive && block.attributes[1].optional);
        assert!(block.attributes[2].computed && block.attributes[2].deprecated);
        let nested = &block.block_types[0];
        assert_eq!(nested.type_name, "credential");
        assert_eq!(nested.nesting, pb::schema::nested_block::NestingMode::List as i32);
        assert_eq!(nested.block.as_ref().unwrap().attributes[0].name, "username");
    }

    #[test]
    fn garbage_dynamic_value_is_a_diagnostic() {
        let dv = pb::DynamicValue {
            msgpack: vec![0xc1, 0xff, 0x00],
            json: vec![],
        };
        let err = decode_dynamic(Some(&dv), &Type::String, "configuration").unwrap_err();
        assert_eq!(err.severity, Severity::Error);
        assert!(err.detail.contains("configuration"));
    }

    #[test]
    fn paths_round_trip() {
        let p = AttributePath::attr("credential").push_index(1).push_attr("password_wo");
        assert_eq!(path_from_proto(&path_to_proto(&p)), p);
    }
}
