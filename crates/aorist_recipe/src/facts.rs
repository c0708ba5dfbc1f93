//! Facts: the values recipe parameters are resolved from, derived from an asset, its
//! dataset and the universe's endpoints. A parameter's `from` names one of these keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use aorist_concept::lake::Replication;
use aorist_concept::Engine;
use serde_json::{json, Value};

use crate::bind::Arg;

/// The schema staging views live in; kept apart from user datasets.
pub const STAGING_SCHEMA: &str = "_staging";

/// Every fact of a replicated asset, by key (`input`/`output` are added by binding).
pub fn asset_facts(view: &Replication) -> BTreeMap<&'static str, Arg> {
    let names: Vec<&String> = view.columns.iter().map(|(name, _)| name).collect();
    let duckdb: Vec<Value> = view
        .column_types(Engine::Duckdb)
        .into_iter()
        .map(|(name, kind)| json!([name, kind]))
        .collect();
    let staging_name = format!("{}__{}", view.dataset, view.asset);
    let facts = [
        ("asset.name", json!(view.asset)),
        ("dataset.name", json!(view.dataset)),
        ("source.url", json!(view.source_url)),
        ("source.sha256", json!(view.sha256)),
        ("source.compression", json!(view.compression)),
        ("source.header_lines", json!(view.header_lines)),
        ("source.format", json!(view.source_format)),
        ("columns.names", json!(names)),
        ("columns.duckdb", Value::Array(duckdb)),
        ("staging.schema", json!([STAGING_SCHEMA])),
        ("staging.table", json!([STAGING_SCHEMA, staging_name])),
        (
            "staging.file",
            json!(format!(
                "{STAGING_SCHEMA}/{}/{}.csv",
                view.dataset, view.asset
            )),
        ),
        ("target.schema", json!([view.dataset])),
        ("target.table", json!([view.dataset, view.asset])),
        ("target.format", json!(view.target_format)),
        (
            "target.file",
            json!(format!(
                "{}/{}.{}",
                view.target_dir, view.asset, view.target_format
            )),
        ),
    ];
    let mut out: BTreeMap<&'static str, Arg> = facts
        .into_iter()
        .map(|(key, value)| (key, Arg::Literal(Arc::new(value))))
        .collect();
    out.insert("settings.lake_path", Arg::Setting(Arc::from("LAKE_PATH")));
    out
}

/// The temporary file a step writes: `<tmp_dir>/<dataset>.<asset>.<suffix>`.
pub fn temporary_file(view: &Replication, suffix: &str) -> String {
    format!(
        "{}/{}.{}.{}",
        view.tmp_dir.trim_end_matches('/'),
        view.dataset,
        view.asset,
        suffix
    )
}
