//! Facts: the values recipe parameters are resolved from, derived from an asset, its
//! dataset and the universe's endpoints. A parameter's `from` names one of these keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aorist_concept::lake::{Replication, STAGING_SCHEMA};
use aorist_concept::Engine;
use serde_json::{json, Value};

use crate::bind::Arg;

/// Facts most assets share with others (their schema, formats, dataset): one value each,
/// however many assets have it. The rest name the asset itself.
const SHARED: [&str; 12] = [
    "dataset.name",
    "columns.varchar",
    "columns.checked",
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
    let checked: Vec<Value> = view
        .column_types(Engine::Duckdb)
        .into_iter()
        .zip(&view.nullable)
        .map(|((name, kind), nullable)| json!([name, kind, nullable]))
        .collect();
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
        // Staged files are read as text and converted exactly by `columns.checked`.
        (
            "columns.varchar",
            Value::Array(names.iter().map(|name| json!([name, "VARCHAR"])).collect()),
        ),
        ("columns.checked", Value::Array(checked)),
        // Names come from the view, where each is defined once (and checked against
        // every other asset's when the asset was resolved).
        ("staging.schema", json!([STAGING_SCHEMA])),
        ("staging.table", json!(view.staging_view())),
        ("staging.file", json!(view.staging_file())),
        ("target.schema", json!([view.dataset])),
        ("target.table", json!(view.target_table())),
        ("target.format", json!(view.target_format)),
        ("target.file", json!(view.target_file())),
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
