//! Facts: the values recipe parameters are resolved from, derived from an asset, its
//! dataset and the universe's endpoints. A parameter's `from` names one of these keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aorist_concept::asset::Computation;
use aorist_concept::engine::EngineKind;
use aorist_concept::lake::{LakeAsset, STAGING_SCHEMA};
use aorist_concept::{EndpointConfig, Engine};
use serde_json::{json, Value};

use crate::bind::{Arg, Setting};

/// Facts most assets share with others (their schema, formats, dataset): one value each,
/// however many assets have it. The rest name the asset itself.
const SHARED: [&str; 25] = [
    "engine",
    "columns.contracts",
    "columns.contracted",
    "columns.spark",
    "columns.postgres",
    "dataset.name",
    "columns.varchar",
    "columns.checked",
    "source.sha256",
    "source.compression",
    "source.codec",
    "source.header_lines",
    "source.format",
    "source.dialect",
    "source.layout",
    "columns.source_names",
    "columns.names",
    "columns.duckdb",
    "staging.schema",
    "target.schema",
    "target.format",
    "staging.format",
    "columns.signature",
    "computation",
    "model.hyperparameters",
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

/// Every fact of an asset the lake computes, by key (`input`/`output` are added by
/// binding). Facts that do not apply to the asset's computation are absent; declared
/// columns are `null` when the computation decides them.
pub fn asset_facts(view: &LakeAsset, interner: &mut Interner) -> BTreeMap<&'static str, Arg> {
    let typed = view.column_types(Engine::Duckdb);
    let names: Option<Vec<&String>> = typed
        .as_ref()
        .map(|columns| columns.iter().map(|(name, _, _)| name).collect());
    let duckdb: Option<Vec<Value>> = typed.as_ref().map(|columns| {
        columns
            .iter()
            .map(|(name, kind, _)| json!([name, kind]))
            .collect()
    });
    let checked: Option<Vec<Value>> = typed.as_ref().map(|columns| {
        columns
            .iter()
            .map(|(name, kind, nullable)| json!([name, kind, nullable]))
            .collect()
    });
    let contracts = view.contracts();
    let signature: Option<String> = typed.as_ref().map(|columns| {
        columns
            .iter()
            .map(|(name, kind, _)| format!("{name} {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let typed_in = |engine: Engine| -> Value {
        json!(view.column_types(engine).map(|columns| columns
            .into_iter()
            .map(|(name, kind, nullable)| json!([name, kind, nullable]))
            .collect::<Vec<_>>()))
    };
    let resolved = &view.resolved;
    let mut facts: Vec<(&'static str, Value)> = vec![
        ("engine", json!(view.engine.name())),
        ("asset.name", json!(resolved.asset)),
        ("dataset.name", json!(resolved.dataset)),
        ("computation", json!(resolved.computation.name())),
        ("columns.names", json!(names)),
        ("columns.duckdb", json!(duckdb)),
        // Staged files are read as text and converted exactly by `columns.checked`.
        (
            "columns.varchar",
            json!(names.as_ref().map(|names| names
                .iter()
                .map(|name| json!([name, "VARCHAR"]))
                .collect::<Vec<_>>())),
        ),
        ("columns.checked", json!(checked)),
        // Checked before a table is published; "none" or "some" for a recipe's `when`.
        ("columns.contracts", json!(contracts)),
        (
            "columns.contracted",
            json!(if contracts.is_empty() { "none" } else { "some" }),
        ),
        ("columns.signature", json!(signature)),
        // What the source calls each column, when its header is read for them.
        ("columns.source_names", json!(view.source_names())),
        // Names come from the view, where each is defined once (and checked against
        // every other asset's when the asset was resolved).
        ("staging.schema", json!([STAGING_SCHEMA])),
        ("columns.spark", typed_in(Engine::Spark)),
        ("columns.postgres", typed_in(Engine::Postgres)),
        ("staging.table", json!(view.staging_view())),
        ("staging.file", json!(view.staging_file())),
        ("staging.format", json!(view.staging_format())),
        ("target.schema", json!([resolved.dataset])),
        ("target.table", json!(view.target_table())),
        ("target.format", json!(view.target_format)),
        ("target.file", json!(view.target_file())),
    ];
    if let Some(source) = view.file_source() {
        facts.extend([
            ("source.url", json!(source.url)),
            ("source.sha256", json!(source.sha256)),
            ("source.compression", json!(source.compression)),
            // The same, with "none" for an uncompressed source (a recipe's `when`
            // names values, and TOML has no null).
            ("source.codec", json!(source.compression.unwrap_or("none"))),
            ("source.header_lines", json!(source.header_lines)),
            ("source.format", json!(source.format)),
            ("source.dialect", json!(source.dialect)),
            ("source.layout", json!(source.layout)),
            // The rows an InlineStorage declares (null for a file).
            ("source.rows", json!(source.rows)),
        ]);
    }
    if !resolved.sources.is_empty() {
        // Each source's published file carries the marker that chains trust: the
        // model file for a model, the table's file otherwise.
        let tables: Vec<Value> = resolved
            .sources
            .iter()
            .map(|s| json!([s.role, s.dataset, s.table]))
            .collect();
        facts.push(("sources.tables", Value::Array(tables)));
        facts.push(("sources.files", json!(view.source_files)));
    }
    match &resolved.computation {
        Computation::Replicate(_) => {}
        Computation::Query { sql } => facts.push(("query.sql", json!(sql))),
        Computation::Function { name } => facts.push(("function.name", json!(name))),
        Computation::Train(model) => {
            let table = resolved
                .sources
                .first()
                .map(|s| json!([s.dataset, s.table]))
                .unwrap_or(Value::Null);
            facts.extend([
                ("model.kind", json!(model.kind)),
                ("model.algorithm", json!(model.algorithm)),
                (
                    "model.hyperparameters",
                    Value::Array(
                        model
                            .hyperparameters
                            .iter()
                            .map(|(k, v)| json!([k, v]))
                            .collect(),
                    ),
                ),
                ("model.features", json!(model.features)),
                ("model.objective", json!(model.objective)),
                ("model.training_table", table),
                ("model.file", json!(model.file)),
            ]);
        }
        Computation::Predict {
            model,
            data,
            keys,
            column,
        } => {
            let table = resolved
                .sources
                .iter()
                .find(|s| &s.role == data)
                .map(|s| json!([s.dataset, s.table]))
                .unwrap_or(Value::Null);
            facts.extend([
                ("predictions.model_file", json!(model.file)),
                ("predictions.kind", json!(model.kind)),
                ("predictions.features", json!(model.features)),
                ("predictions.data", table),
                ("predictions.keys", json!(keys)),
                ("predictions.column", json!(column)),
            ]);
        }
    }
    let mut out: BTreeMap<&'static str, Arg> = facts
        .into_iter()
        .map(|(key, value)| (key, Arg::Literal(interner.intern(key, value))))
        .collect();
    out.insert(
        "settings.lake_path",
        Arg::Setting(Arc::new("LAKE_PATH".to_string())),
    );
    // Each engine's connection, a program constant (secrets only as the names of the
    // environment variables holding them); only the asset's own engine is offered.
    let setting = match view.engine {
        EngineKind::Lake => None,
        EngineKind::ObjectStore => Some(("settings.objectstore", OBJECT_STORE)),
        EngineKind::Spark => Some(("settings.spark", SPARK)),
        EngineKind::Postgres => Some(("settings.postgres", POSTGRES)),
    };
    if let Some((fact, name)) = setting {
        out.insert(fact, Arg::Setting(Arc::new(name.to_string())));
    }
    out
}

/// The program constants naming each engine's connection.
pub const OBJECT_STORE: &str = "OBJECT_STORE";
pub const SPARK: &str = "SPARK";
pub const POSTGRES: &str = "POSTGRES";

/// The program settings of the universe's endpoints, by constant name: what an engine
/// needs to connect, never a secret (those stay in the environment variables named).
pub fn engine_settings(endpoints: &EndpointConfig, universe: &str) -> Vec<Setting> {
    let mut settings = Vec::new();
    if let Some(minio) = &endpoints.minio {
        let endpoint = if minio.server.contains("://") {
            format!("{}:{}", minio.server.trim_end_matches('/'), minio.port)
        } else {
            format!("http://{}:{}", minio.server, minio.port)
        };
        settings.push(Setting {
            name: OBJECT_STORE.to_string(),
            value: json!({
                "endpoint": endpoint,
                "bucket": minio.bucket,
                "access_key_env": minio.access_key_env,
                "secret_key_env": minio.secret_key_env,
            }),
            doc: "The object store: every file the steps stage or publish lives in this \
                  bucket; the keys are read from the environment variables named here."
                .to_string(),
        });
    }
    if let Some(spark) = &endpoints.spark {
        settings.push(Setting {
            name: SPARK.to_string(),
            value: json!({
                "master": spark.master,
                "warehouse_dir": spark.warehouse_dir,
                "app_name": universe,
            }),
            doc: "The Spark session: point master at a cluster (and warehouse_dir at HDFS or \
                  a shared mount) to run there."
                .to_string(),
        });
    }
    if let Some(postgres) = &endpoints.postgres {
        settings.push(Setting {
            name: POSTGRES.to_string(),
            value: json!({
                "host": postgres.server,
                "port": postgres.port,
                "user": postgres.username,
                "dbname": postgres.database,
                "password_env": postgres.password_env,
            }),
            doc: "The PostgreSQL server; the password is read from the environment variable \
                  named here."
                .to_string(),
        });
    }
    settings
}
