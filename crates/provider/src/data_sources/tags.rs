//! `data.sei_tags`: SEI's tags by name, so that configuration can say
//! `tags = [data.sei_tags.all.ids["platform"]]` instead of an id dug out of
//! the SEI UI. Read from SEI's tags API (gitsei `TagsController`, `POST
//! /v1/tags/list`; routes in docs/design.md), which stores names in lower
//! case.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Type};
use tfplugin::diag::Diagnostics;
use tfplugin::framework::DataSource;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use crate::services::{Ctx, Services};

#[derive(Debug, Clone, PartialEq, Model)]
pub struct TagModel {
    pub id: Val<String>,
    pub name: Val<String>,
}

#[derive(Debug, Clone, PartialEq, Model)]
pub struct TagsModel {
    pub names: Val<Vec<String>>,
    pub name_prefix: Val<String>,
    pub tags: Val<Vec<TagModel>>,
    pub ids: Val<BTreeMap<String, String>>,
}

pub fn schema() -> Schema {
    let tag = Type::object([("id", Type::String), ("name", Type::String)]);
    let block = Block::new("SEI's tags, by name: the ids that the integrations' `tags` take.")
        .attr(Attribute::optional("names", Type::set(Type::String)).describe("Only these tags, by name (ignoring case: SEI stores names in lower case). A name SEI does not have is an error on this attribute."))
        .attr(Attribute::optional("name_prefix", Type::String).describe("Only tags whose name starts with this text (ignoring case)."))
        .attr(Attribute::computed("tags", Type::list(tag)).describe("The tags found, by name: `id` and `name` (lower case, as SEI stores it)."))
        .attr(Attribute::computed("ids", Type::map(Type::String)).describe("Tag id by tag name, for `tags = [data.sei_tags.x.ids[\"platform\"]]`."));
    Schema::new(0, block)
}

pub struct TagsDataSource;

#[async_trait]
impl DataSource<Services> for TagsDataSource {
    type Model = TagsModel;

    async fn read(&self, ctx: &Ctx, config: TagsModel, diags: &mut Diagnostics) -> Option<TagsModel> {
        let all = match ctx.services.sei.list_tags(&ctx.cancel).await {
            Ok(t) => t,
            Err(e) => {
                diags.push(crate::services::sei_error(ctx, "Cannot list tags", &e, None));
                return None;
            }
        };
        let prefix = config.name_prefix.known().map(|p| p.to_lowercase()).unwrap_or_default();
        let wanted: Option<Vec<String>> = config
            .names
            .known()
            .map(|n| n.iter().map(|s| s.to_lowercase()).collect());
        if let Some(wanted) = &wanted {
            let missing: Vec<String> = wanted
                .iter()
                .filter(|w| !all.iter().any(|t| t.name.to_lowercase() == **w))
                .map(|w| format!("{w:?}"))
                .collect();
            if !missing.is_empty() {
                diags.error_at(
                    AttributePath::attr("names"),
                    "Unknown SEI tag name",
                    format!("SEI has no tag named {} in this account. Create it in SEI (Settings, Tags), or check the spelling; names are compared ignoring case.", missing.join(", ")),
                );
                return None;
            }
        }
        let mut found: Vec<TagModel> = all
            .iter()
            .filter(|t| t.name.to_lowercase().starts_with(&prefix))
            .filter(|t| wanted.as_ref().is_none_or(|w| w.contains(&t.name.to_lowercase())))
            .map(|t| TagModel {
                id: Val::Known(t.id.clone()),
                name: Val::Known(t.name.clone()),
            })
            .collect();
        found.sort_by(|a, b| a.name.known().cmp(&b.name.known()));
        let ids = found
            .iter()
            .filter_map(|t| Some((t.name.known()?.clone(), t.id.known()?.clone())))
            .collect();
        Some(TagsModel {
            tags: Val::Known(found),
            ids: Val::Known(ids),
            ..config
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
