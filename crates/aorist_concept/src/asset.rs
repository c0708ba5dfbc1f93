//! What an asset reads, what it writes and how it is computed, independently of the
//! engine that will do it.
//!
//! Every asset the core can compute resolves to an [`Asset`](Resolved): its inputs (a
//! file, or other assets of the universe by role), its computation (replicate, query,
//! function, train, predict) and its outputs (one table, plus a model file for a
//! model). Engines (the embedded lake in [`crate::lake`]) turn that into names and
//! files; constraint conditions and recipe facts read it, so they agree.

use aorist_error::{AoristError, ErrorKind, Result};
use serde_json::{json, Value};

use crate::graph::qualified;
use crate::{
    asset_name, asset_setup, Algorithm, Asset, AttributeKind, ConceptTree, DatumTemplate, Encoding,
    Location, Schema, Storage, StorageSetup,
};

/// A file an asset is replicated from.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSource {
    /// An http(s) URL, or a local path for `LocalFileStorage`.
    pub url: String,
    pub sha256: Option<String>,
    /// `gzip`, `zip` or `bz2`.
    pub compression: Option<&'static str>,
    pub header_lines: i64,
    /// `csv`, `tsv`, `jsonl`, `parquet` or `orc`.
    pub format: &'static str,
    /// `[delimiter, quote]` of a delimited source (`""`: no quoting); None for JSON.
    pub dialect: Option<[String; 2]>,
    /// `file`; `directory`: the Parquet or ORC files under a local directory,
    /// Hive-partitioned (its `key=value` directories give columns); `inline`: the
    /// rows of an `InlineStorage`, in `rows`.
    pub layout: &'static str,
    pub rows: Option<Vec<Vec<Option<Value>>>>,
}

impl FileSource {
    /// Comma-separated, quoted with `"`: what the later steps read as it is.
    pub fn is_plain_csv(&self) -> bool {
        self.format == "csv"
            && self
                .dialect
                .as_ref()
                .is_some_and(|[delimiter, quote]| delimiter == "," && quote == "\"")
    }
}

/// An asset another is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceAsset {
    pub role: String,
    pub node: usize,
    pub dataset: String,
    /// The table it publishes (a model publishes its metrics table).
    pub table: String,
    /// For a model: what it predicts and where its file is.
    pub model: Option<ModelSpec>,
}

/// What a model predicts and how it is trained.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// `regression` or `classification`.
    pub kind: &'static str,
    pub algorithm: &'static str,
    /// The algorithm's fields, sorted by name.
    pub hyperparameters: Vec<(String, Value)>,
    pub features: Vec<String>,
    pub objective: String,
    /// `<target path>/<model>.onnx` (relative paths resolve against the lake).
    pub file: String,
}

/// How an asset is computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Computation {
    /// Copied from a file.
    Replicate(FileSource),
    /// A SQL query over its sources, `{role}` standing for each source table.
    Query { sql: String },
    /// A Python function of its sources, defined in the generated program.
    Function { name: String },
    /// A model trained on its one source.
    Train(ModelSpec),
    /// A model's predictions for every row of a table.
    Predict {
        model: ModelSpec,
        /// The role of the table scored.
        data: String,
        keys: Vec<String>,
        column: String,
    },
}

impl Computation {
    /// How recipes name it (the `computation` fact).
    pub fn name(&self) -> &'static str {
        match self {
            Computation::Replicate(_) => "replicate",
            Computation::Query { .. } => "query",
            Computation::Function { .. } => "function",
            Computation::Train(_) => "train",
            Computation::Predict { .. } => "predict",
        }
    }
}

/// One column of a table an asset writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: AttributeKind,
    pub nullable: bool,
    /// The contracts declared on it, in the taxonomy's order: (contract, value).
    pub contracts: Vec<(&'static str, Value)>,
    /// What the source calls it, when its schema reads the source's columns by name
    /// (`source_names`): the renamed name, or its own.
    pub source_name: Option<String>,
}

/// An asset resolved: what it reads, how it is computed and what it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub dataset: String,
    pub asset: String,
    pub computation: Computation,
    /// The assets it reads, by role (empty for a replicated asset).
    pub sources: Vec<SourceAsset>,
    /// The table it writes: `<dataset>.<table>`.
    pub table: String,
    /// Its columns in order; `None` when the computation decides them.
    pub columns: Option<Vec<Column>>,
    /// The storage the table is written to (`None`: the engine's default).
    pub target: Option<Storage>,
    /// Where its temporary files go.
    pub tmp_dir: String,
}

/// The metrics table of a model: `<model>_metrics`.
pub fn metrics_table(model: &str) -> String {
    format!("{model}_metrics")
}

/// The asset at `node` resolved, or `None` when it is not something the core computes
/// (a `LocalStorageSetup` asset already is where it should be).
pub fn resolve(tree: &ConceptTree, node: usize) -> Result<Option<Resolved>> {
    let (Some(dataset), Some(asset)) = (tree.dataset_of(node), tree.asset_of(node)) else {
        return Ok(None);
    };
    let path = tree.display_path(node);
    let name = asset_name(asset).to_string();
    let setup = asset_setup(asset);
    let sources = tree
        .sources
        .get(node)
        .map(|sources| {
            sources
                .iter()
                .map(|(role, source)| source_asset(tree, role, *source))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    let (computation, target, tmp_dir) = match setup {
        StorageSetup::RemoteStorageSetup(setup) => (
            Computation::Replicate(file_source(&setup.remote, &path)?),
            None,
            setup.tmp_dir.clone(),
        ),
        StorageSetup::ReplicationStorageSetup(setup) => {
            if setup.targets.len() != 1 {
                return Err(AoristError::new(
                    ErrorKind::UnsupportedStorage,
                    format!("{path} / setup.targets"),
                    format!(
                        "an asset is replicated into exactly one target, not {}",
                        setup.targets.len()
                    ),
                    "declare one HiveTableStorage target per asset",
                ));
            }
            match &setup.tmp_encoding {
                Encoding::CSVEncoding(csv) if csv.compression.is_none() && csv.header.is_none() => {
                }
                other => {
                    return Err(AoristError::new(
                        ErrorKind::UnsupportedStorage,
                        format!("{path} / setup.tmp_encoding"),
                        format!(
                            "the temporary encoding must be a plain CSVEncoding(), not {}",
                            other.kind()
                        ),
                        "pass CSVEncoding() as tmp_encoding",
                    ));
                }
            }
            (
                Computation::Replicate(file_source(&setup.source, &path)?),
                setup.targets.first().cloned(),
                Some(setup.tmp_dir.clone()),
            )
        }
        StorageSetup::LocalStorageSetup(_) => return Ok(None),
        StorageSetup::ComputedFromLocalData(setup) => {
            let computation = derived(tree, node, asset, &sources, &path)?;
            let target = match &computation {
                // The model file is the target; its metrics table goes to the default.
                Computation::Train(_) => None,
                _ => Some(setup.target.clone()),
            };
            (computation, target, setup.tmp_dir.clone())
        }
    };
    let table = match &computation {
        Computation::Train(_) => metrics_table(&name),
        _ => name.clone(),
    };
    let columns = match (&computation, asset) {
        (Computation::Train(_), _) => Some(vec![
            Column {
                name: "metric".into(),
                kind: AttributeKind::Categorical,
                nullable: false,
                contracts: Vec::new(),
                source_name: None,
            },
            Column {
                name: "value".into(),
                kind: AttributeKind::Float64,
                nullable: false,
                contracts: Vec::new(),
                source_name: None,
            },
        ]),
        (_, Asset::StaticDataTable(table)) => schema_columns(&table.schema),
        (_, Asset::SupervisedModel(_)) => None,
    };
    let by_name = columns
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| c.source_name.is_some()));
    if by_name {
        let unsupported = |what: &str, fix: &str| {
            AoristError::new(
                ErrorKind::Declaration,
                format!("{path} / schema.source_names"),
                what.to_string(),
                fix.to_string(),
            )
        };
        match &computation {
            Computation::Replicate(source)
                if matches!(source.format, "csv" | "tsv") && source.header_lines == 0 =>
            {
                return Err(unsupported(
                    "columns are read by the names in the source's header, but its encoding \
                     declares no header",
                    "declare header=CSVHeader() on the encoding (its last line names the \
                     columns), or drop source_names to read the columns in schema order",
                ))
            }
            Computation::Replicate(source) if source.rows.is_some() => {
                return Err(unsupported(
                    "source_names renames the columns of a source file, and inline rows \
                     have none: their values are in the order of the attributes",
                    "drop source_names",
                ))
            }
            Computation::Replicate(_) => {}
            _ => {
                return Err(unsupported(
                    "source_names renames the columns of a source file, and this table is \
                     computed",
                    "drop source_names: a computed table's columns are what its computation \
                     returns",
                ))
            }
        }
    }
    if let (Computation::Replicate(source), Some(columns)) = (&computation, &columns) {
        let short = source
            .rows
            .iter()
            .flatten()
            .enumerate()
            .find(|(_, row)| row.len() != columns.len());
        if let Some((index, row)) = short {
            return Err(AoristError::new(
                ErrorKind::Declaration,
                format!("{path} / setup.source.rows[{index}]"),
                format!(
                    "the row has {} values, and the schema {} attributes",
                    row.len(),
                    columns.len()
                ),
                "give each row one value per attribute, in the schema's order (None \
                 for a missing one)",
            ));
        }
    }
    Ok(Some(Resolved {
        dataset: dataset.name.clone(),
        asset: name,
        computation,
        sources,
        table,
        columns,
        target,
        tmp_dir: tmp_dir.unwrap_or_else(|| format!("tmp/{}", dataset.name)),
    }))
}

fn schema_columns(schema: &Schema) -> Option<Vec<Column>> {
    match schema {
        Schema::TabularSchema(schema) => {
            let renames = schema.source_names.as_ref().filter(|r| !r.is_empty());
            let source_name = |name: &String| {
                renames.map(|renames| {
                    renames
                        .iter()
                        .find(|(_, attribute)| *attribute == name)
                        .map_or_else(|| name.clone(), |(source, _)| source.clone())
                })
            };
            Some(
                schema
                    .attributes
                    .iter()
                    .map(|a| Column {
                        name: a.name.clone(),
                        kind: a.kind,
                        nullable: a.nullable,
                        contracts: contracts(a),
                        source_name: source_name(&a.name),
                    })
                    .collect(),
            )
        }
        Schema::UndefinedTabularSchema(_) => None,
    }
}

/// The contracts declared on attribute `a`: (contract, value), in the order the
/// taxonomy lists them; `unique` only when asked for.
fn contracts(a: &crate::Attribute) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(value) = &a.min {
        out.push(("min", value.clone()));
    }
    if let Some(value) = &a.max {
        out.push(("max", value.clone()));
    }
    if let Some(values) = &a.accepted_values {
        out.push(("accepted_values", Value::Array(values.clone())));
    }
    if let Some(regex) = &a.regex {
        out.push(("regex", json!(regex)));
    }
    if a.unique {
        out.push(("unique", json!(true)));
    }
    out
}

fn source_asset(tree: &ConceptTree, role: &str, node: usize) -> Result<SourceAsset> {
    let dataset = tree
        .dataset_of(node)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let asset = tree.asset_of(node);
    let name = asset.map(asset_name).unwrap_or_default().to_string();
    let (table, model) = match asset {
        Some(Asset::SupervisedModel(_)) => (metrics_table(&name), Some(model_spec(tree, node)?)),
        _ => (name, None),
    };
    Ok(SourceAsset {
        role: role.to_string(),
        node,
        dataset,
        table,
        model,
    })
}

/// The columns of the asset at `node` if its schema declares them.
fn declared_columns(tree: &ConceptTree, node: usize) -> Option<Vec<String>> {
    match tree.asset_of(node)? {
        Asset::StaticDataTable(table) => {
            schema_columns(&table.schema).map(|c| c.into_iter().map(|c| c.name).collect())
        }
        Asset::SupervisedModel(_) => Some(vec!["metric".into(), "value".into()]),
    }
}

fn derived(
    tree: &ConceptTree,
    node: usize,
    asset: &Asset,
    sources: &[SourceAsset],
    path: &str,
) -> Result<Computation> {
    let StorageSetup::ComputedFromLocalData(setup) = asset_setup(asset) else {
        return Err(AoristError::catalog(path, "not a derived asset"));
    };
    match asset {
        Asset::SupervisedModel(_) => Ok(Computation::Train(model_spec(tree, node)?)),
        Asset::StaticDataTable(table) => {
            if let Some(sql) = &setup.sql {
                return Ok(Computation::Query { sql: sql.clone() });
            }
            if let Some(function) = &setup.function {
                return Ok(Computation::Function {
                    name: function.name.clone(),
                });
            }
            let template = match &table.schema {
                Schema::TabularSchema(schema) => Some(&schema.datum_template),
                Schema::UndefinedTabularSchema(_) => None,
            };
            let (keys, column) = match template {
                Some(DatumTemplate::PredictionsFromTrainedFloatMeasure(p)) => {
                    (&p.key_attributes, &p.name)
                }
                Some(DatumTemplate::PredictionsFromTrainedCategoricalMeasure(p)) => {
                    (&p.key_attributes, &p.name)
                }
                _ => {
                    return Err(AoristError::new(
                        ErrorKind::Declaration,
                        format!("{path} / setup"),
                        "ComputedFromLocalData says neither how to compute the table (no \
                         sql, no function) nor that it holds a model's predictions",
                        "pass sql=\"SELECT ... FROM {role}\" or function=f, or give the \
                         table a PredictionsFromTrainedFloatMeasure schema",
                    ))
                }
            };
            let role_of = |wanted: &str| sources.iter().find(|s| s.role == wanted);
            let model = role_of("model").and_then(|s| Some((s.node, s.model.clone()?)));
            let (Some((model_node, model)), Some(data), 2) =
                (model, role_of("data"), sources.len())
            else {
                return Err(AoristError::new(
                    ErrorKind::Declaration,
                    format!("{path} / setup.source_asset_names"),
                    "a predictions table reads exactly two sources: the role \"model\" (a \
                     SupervisedModel) and the role \"data\" (the table to score)",
                    "pass source_asset_names={\"model\": \"<model>\", \"data\": \"<table>\"}",
                ));
            };
            let expected = if matches!(
                template,
                Some(DatumTemplate::PredictionsFromTrainedFloatMeasure(_))
            ) {
                "regression"
            } else {
                "classification"
            };
            if model.kind != expected {
                return Err(AoristError::new(
                    ErrorKind::Declaration,
                    format!("{path} / schema.datum_template"),
                    format!(
                        "the model {} is a {} model, but the table holds {expected} predictions",
                        qualified(tree, model_node),
                        model.kind
                    ),
                    "use PredictionsFromTrainedFloatMeasure for a TrainedFloatMeasure model \
                     and PredictionsFromTrainedCategoricalMeasure for a TrainedCategoricalMeasure",
                ));
            }
            let keys: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
            if let Some(columns) = declared_columns(tree, data.node) {
                let missing: Vec<&String> = keys
                    .iter()
                    .chain(&model.features)
                    .filter(|c| !columns.contains(c))
                    .collect();
                if !missing.is_empty() {
                    return Err(AoristError::new(
                        ErrorKind::Declaration,
                        format!("{path} / setup.source_asset_names[\"data\"]"),
                        format!(
                            "the table {} lacks the column(s) {} (the keys and the model's \
                             features); its columns are {}",
                            qualified(tree, data.node),
                            quoted_list(&missing),
                            columns.join(", ")
                        ),
                        "score a table with the model's feature columns, and name key \
                         attributes after its columns",
                    ));
                }
            }
            Ok(Computation::Predict {
                model,
                data: "data".into(),
                keys,
                column: column.clone(),
            })
        }
    }
}

fn quoted_list(items: &[&String]) -> String {
    items
        .iter()
        .map(|i| format!("{i:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The model at `node`: what it predicts, how it is trained and where its file goes.
pub fn model_spec(tree: &ConceptTree, node: usize) -> Result<ModelSpec> {
    let path = tree.display_path(node);
    let Some(Asset::SupervisedModel(model)) = tree.asset_of(node) else {
        return Err(AoristError::catalog(path, "not a model"));
    };
    let (kind, features, objective) = match &model.template {
        DatumTemplate::TrainedFloatMeasure(t) => ("regression", &t.features, &t.objective),
        DatumTemplate::TrainedCategoricalMeasure(t) => {
            ("classification", &t.features, &t.objective)
        }
        other => {
            return Err(AoristError::new(
                ErrorKind::Declaration,
                format!("{path} / template"),
                format!("a {} is not what a model predicts", other.kind()),
                "pass TrainedFloatMeasure(...) or TrainedCategoricalMeasure(...)",
            ))
        }
    };
    let (algorithm, hyperparameters, fits) = match &model.algorithm {
        Algorithm::SVMRegressionAlgorithm(a) => (
            "SVMRegressionAlgorithm",
            vec![("c", json!(a.c)), ("kernel", json!(a.kernel))],
            "regression",
        ),
        Algorithm::RandomForestRegressionAlgorithm(a) => (
            "RandomForestRegressionAlgorithm",
            vec![
                ("max_depth", json!(a.max_depth)),
                ("n_estimators", json!(a.n_estimators)),
            ],
            "regression",
        ),
        Algorithm::LinearRegressionAlgorithm(_) => {
            ("LinearRegressionAlgorithm", Vec::new(), "regression")
        }
        Algorithm::RandomForestClassificationAlgorithm(a) => (
            "RandomForestClassificationAlgorithm",
            vec![
                ("max_depth", json!(a.max_depth)),
                ("n_estimators", json!(a.n_estimators)),
            ],
            "classification",
        ),
        Algorithm::LogisticRegressionAlgorithm(a) => (
            "LogisticRegressionAlgorithm",
            vec![("c", json!(a.c))],
            "classification",
        ),
    };
    if fits != kind {
        return Err(AoristError::new(
            ErrorKind::Declaration,
            format!("{path} / algorithm"),
            format!("{algorithm} is a {fits} algorithm, but the model's template is a {kind}"),
            "pair TrainedFloatMeasure with a regression algorithm and \
             TrainedCategoricalMeasure with a classification algorithm",
        ));
    }
    let StorageSetup::ComputedFromLocalData(setup) = &model.setup else {
        return Err(AoristError::new(
            ErrorKind::Declaration,
            format!("{path} / setup"),
            "a model is trained from a table of the universe",
            "pass ComputedFromLocalData(source_asset_names={\"training_dataset\": \"<table>\"}, \
             target=LocalFileStorage(location=LocalFileSystemLocation(path=\"models\"), \
             encoding=ONNXEncoding()))",
        ));
    };
    let directory = match &setup.target {
        Storage::LocalFileStorage(file) => match (&file.location, &file.encoding) {
            (Location::LocalFileSystemLocation(location), Encoding::ONNXEncoding(_)) => {
                Some(location.path.clone())
            }
            _ => None,
        },
        _ => None,
    };
    let Some(directory) = directory else {
        return Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            format!("{path} / setup.target"),
            format!(
                "a model is written as an ONNX file, not to a {}",
                setup.target.kind()
            ),
            "pass target=LocalFileStorage(location=LocalFileSystemLocation(path=\"models\"), \
             encoding=ONNXEncoding())",
        ));
    };
    let training = tree.sources.get(node).and_then(|s| s.first());
    if let Some((role, table)) = training {
        if let Some(columns) = declared_columns(tree, *table) {
            let missing: Vec<&String> = features
                .iter()
                .chain([objective])
                .filter(|c| !columns.contains(c))
                .collect();
            if !missing.is_empty() {
                return Err(AoristError::new(
                    ErrorKind::Declaration,
                    format!("{path} / template"),
                    format!(
                        "the training table {} ({role:?}) has no column(s) {}; its columns \
                         are {}",
                        qualified(tree, *table),
                        quoted_list(&missing),
                        columns.join(", ")
                    ),
                    "name features and the objective after columns of the training table",
                ));
            }
        }
    }
    let directory = directory.trim_end_matches('/');
    Ok(ModelSpec {
        kind,
        algorithm,
        hyperparameters: hyperparameters
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        features: features.clone(),
        objective: objective.clone(),
        file: if directory.is_empty() {
            format!("{}.onnx", model.name)
        } else {
            format!("{directory}/{}.onnx", model.name)
        },
    })
}

fn file_source(storage: &Storage, path: &str) -> Result<FileSource> {
    let unsupported = |what: String| {
        AoristError::new(
            ErrorKind::UnsupportedStorage,
            format!("{path} / setup.source"),
            what,
            "replicate from a RemoteStorage with a WebLocation, or a LocalFileStorage",
        )
    };
    if let Storage::InlineStorage(inline) = storage {
        return Ok(FileSource {
            url: "inline".to_string(),
            sha256: None,
            compression: None,
            header_lines: 0,
            format: "csv",
            dialect: Some([",".to_string(), "\"".to_string()]),
            layout: "inline",
            rows: Some(inline.rows.clone()),
        });
    }
    let (url, sha256, encoding, layout) = match storage {
        Storage::RemoteStorage(remote) => match &remote.location {
            Location::WebLocation(web) => (
                web.address.clone(),
                remote.sha256.clone(),
                &remote.encoding,
                &remote.layout,
            ),
            Location::LocalFileSystemLocation(local) => (
                local.path.clone(),
                remote.sha256.clone(),
                &remote.encoding,
                &remote.layout,
            ),
            other => {
                return Err(unsupported(format!(
                    "the embedded lake cannot download from a {}",
                    other.kind()
                )))
            }
        },
        Storage::LocalFileStorage(local) => match &local.location {
            Location::LocalFileSystemLocation(location) => {
                (location.path.clone(), None, &local.encoding, &local.layout)
            }
            other => {
                return Err(unsupported(format!(
                    "a LocalFileStorage must be at a LocalFileSystemLocation, not a {}",
                    other.kind()
                )))
            }
        },
        other => {
            return Err(unsupported(format!(
                "a {} is not a file source the embedded lake can replicate",
                other.kind()
            )))
        }
    };
    let compression_name = |compression: &Option<crate::Compression>| {
        compression.as_ref().map(|c| match c {
            crate::Compression::GzipCompression(_) => "gzip",
            crate::Compression::ZipCompression(_) => "zip",
            crate::Compression::BZip2Compression(_) => "bz2",
        })
    };
    let header = |header: &Option<crate::CSVHeader>| header.as_ref().map_or(0, |h| h.num_lines);
    let (compression, header_lines, format, dialect) = match encoding {
        Encoding::CSVEncoding(csv) => (
            compression_name(&csv.compression),
            header(&csv.header),
            "csv",
            Some([csv.delimiter.clone(), csv.quote.clone()]),
        ),
        Encoding::TSVEncoding(tsv) => (
            compression_name(&tsv.compression),
            header(&tsv.header),
            "tsv",
            Some(["\t".to_string(), String::new()]),
        ),
        Encoding::NewlineDelimitedJSONEncoding(json) => {
            (compression_name(&json.compression), 0, "jsonl", None)
        }
        // Read directly, by column name: no compression of their own, no header.
        Encoding::ParquetEncoding(_) => (None, 0, "parquet", None),
        Encoding::ORCEncoding(_) => (None, 0, "orc", None),
        other => {
            return Err(AoristError::new(
                ErrorKind::UnsupportedStorage,
                format!("{path} / setup.source.encoding"),
                format!(
                    "the embedded lake cannot replicate a source encoded as {}",
                    other.kind()
                ),
                "use a CSVEncoding, TSVEncoding, NewlineDelimitedJSONEncoding, \
                 ParquetEncoding or ORCEncoding source",
            ))
        }
    };
    let local = !url.contains("://") || url.starts_with("file://");
    let layout = match layout {
        crate::Layout::SingleFileLayout(_) => "file",
        crate::Layout::DirectoryLayout(_) if local && matches!(format, "parquet" | "orc") => {
            "directory"
        }
        other => {
            return Err(AoristError::new(
                ErrorKind::UnsupportedStorage,
                format!("{path} / setup.source.layout"),
                format!(
                    "a {} source cannot be read as a {}: a directory is read as the \
                     Parquet or ORC files under a local path",
                    format,
                    other.kind()
                ),
                "use SingleFileLayout() for one file, or DirectoryLayout() with a \
                 ParquetEncoding or ORCEncoding at a local path",
            ))
        }
    };
    Ok(FileSource {
        url,
        sha256,
        compression,
        header_lines,
        format,
        dialect,
        layout,
        rows: None,
    })
}
