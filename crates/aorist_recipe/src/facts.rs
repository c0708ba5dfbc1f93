//! Facts: the values recipe parameters are resolved from, derived from an asset, its
//! dataset and the universe's endpoints. A parameter's `from` names one of these keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aorist_concept::lake::Replication;
use aorist_concept::Engine;
use serde_json::{json, Value};

use crate::bind::Arg;

/// The schema staging views live in; kept apart from user datasets.
pub const STAGING_SCHEMA: &str = "_staging";

/// Facts most assets share with others (their schema, formats, dataset): one value each,
/// however many assets have it. The rest name the asset itself.
const SHARED: [&str; 10] = [
    "dataset.name",
    "source.sha256",
    "source.compression",
    "source.header_lines",
    "source.format",
    "columns.names",
    "columns.duckdb",
    "staging.schema",
    "target.schema",
    "target.format",
];

/// Equal values of shared facts, allocated once (a 100,000-asset universe would
/// otherwise hold 100,000 copies of one column list).
#[derive(Debug, Default)]
pub struct Interner {
    values: HashMap<(&'static str, String), Arc<Value>>,
}

impl Interner {
    fn intern(&mut self, key: &'static str, value: Value) -> Arc<Value> {
        if !SHARED.contains(&key) {
            return Arc::new(value);
        }
        self.values
            .entry((key, value.to_string()))
            .or_insert_with(|| Arc::new(value))
            .clone()
    }
}

/// Every fact of a replicated asset, by key (`input`/`output` are added by binding).
pub fn asset_facts(view: &Replication, interner: &mut Interner) -> BTreeMap<&'static str, Arg> {
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
        .map(|(key, value)| (key, Arg::Literal(interner.intern(key, value))))
        .collect();
    out.insert(
        "settings.lake_path",
        Arg::Setting(Arc::new("LAKE_PATH".to_string())),
    );
    out
}

/// Where the temporary files of an asset's steps go: each is this prefix followed by
/// its suffix, i.e. `<tmp_dir>/<dataset>.<asset>.<suffix>`.
pub fn temporary_prefix(view: &Replication) -> String {
    format!(
        "{}/{}.{}.",
        view.tmp_dir.trim_end_matches('/'),
        view.dataset,
        view.asset,
    )
}
