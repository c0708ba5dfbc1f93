//! How an engine sees an asset: where its data comes from, how it is encoded, and which
//! table it must become, with every name the steps use (staging table, staged file,
//! table files, temporary files).
//!
//! Which engine serves the asset is decided in [`crate::engine`], once, so that
//! constraint conditions and recipe parameters agree. The names are the embedded lake's,
//! read by each engine relative to its own root (the lake directory, the bucket, the
//! Spark warehouse); only the staging table differs where an engine's names must.

use crate::asset::{resolve, Computation, FileSource, Resolved};
use crate::engine::{place, EngineKind, Placement};
use crate::{ConceptTree, Engine};
use aorist_error::{AoristError, ErrorKind, Result};
use std::fmt;

/// An asset as the embedded lake computes it: the resolved asset, and the lake table
/// it writes (`<dataset>.<table>`, files under `target_dir`).
#[derive(Debug, Clone, PartialEq)]
pub struct LakeAsset {
    pub resolved: Resolved,
    /// The engine that computes and stores it.
    pub engine: EngineKind,
    /// The schema (database) its table is created in: the dataset, or a PostgreSQL schema.
    pub schema: String,
    /// `orc` or `parquet` (`table` for PostgreSQL, whose tables are not files).
    pub target_format: &'static str,
    /// The lake directory the table's files live in, e.g. `snap/ca_astroph`.
    pub target_dir: String,
    /// Per source (by role): the file it publishes, whose marker chains trust (a
    /// model's file, a table's file in its target encoding).
    pub source_files: Vec<String>,
}

/// The schema staging views live in, apart from the datasets' schemas.
pub const STAGING_SCHEMA: &str = "_staging";

/// The names an asset derives. Dataset and asset names are identifiers
/// (`[A-Za-z_][A-Za-z0-9_]*`), so the `.` and `/` that join them cannot occur inside
/// them: each name is injective in (dataset, asset), or (location, asset) for the
/// table's lake directory. [`crate::names`] records them as each asset is resolved and
/// checks, once all are, that no two assets share one, ignoring case. The `write_*`
/// forms stream a name into a sink, so that check allocates nothing per asset.
impl LakeAsset {
    pub fn dataset(&self) -> &str {
        &self.resolved.dataset
    }

    pub fn asset(&self) -> &str {
        &self.resolved.asset
    }

    /// The table the asset writes (its own name; `<model>_metrics` for a model).
    pub fn table(&self) -> &str {
        &self.resolved.table
    }

    /// The file it is replicated from, if it is.
    pub fn file_source(&self) -> Option<&FileSource> {
        match &self.resolved.computation {
            Computation::Replicate(source) => Some(source),
            _ => None,
        }
    }

    /// How the computed rows are staged: `csv` (a replicated file) or `parquet`.
    pub fn staging_format(&self) -> &'static str {
        match self.resolved.computation {
            Computation::Replicate(_) => "csv",
            _ => "parquet",
        }
    }

    /// The table, `<schema>.<table>`, as name parts.
    pub fn target_table(&self) -> [&str; 2] {
        [&self.schema, self.table()]
    }

    /// The staging view, `_staging."<dataset>.<asset>"`, as name parts (Spark:
    /// `_staging.<dataset>__<asset>`).
    pub fn staging_view(&self) -> [String; 2] {
        [
            STAGING_SCHEMA.to_string(),
            render(|out| self.write_staging_view_name(out)),
        ]
    }

    /// The staging view's name within [`STAGING_SCHEMA`]: `<dataset>.<table>`. A quoted
    /// identifier may hold the dot that keeps `a`/`b__c` apart from `a__b`/`c`; Hive's
    /// names cannot, so Spark joins them with `__` (and [`crate::names`] reports the rare
    /// pair that then meets).
    pub fn write_staging_view_name(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let separator = if self.engine == EngineKind::Spark {
            "__"
        } else {
            "."
        };
        write!(out, "{}{separator}{}", self.dataset(), self.table())
    }

    /// The staged file, lake-relative: `_staging/<dataset>/<table>.<csv|parquet>`.
    pub fn staging_file(&self) -> String {
        render(|out| self.write_staging_file(out))
    }

    pub fn write_staging_file(&self, out: &mut impl fmt::Write) -> fmt::Result {
        self.write_staging_dir(out)?;
        write!(out, "/{}.{}", self.table(), self.staging_format())
    }

    /// The directory of the dataset's staged files, lake-relative: `_staging/<dataset>`.
    pub fn write_staging_dir(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{STAGING_SCHEMA}/{}", self.dataset())
    }

    /// The table's file in its target encoding, lake-relative:
    /// `<location>/<table>/<table>.<format>` (inside [`LakeAsset::target_dir`]).
    pub fn target_file(&self) -> String {
        render(|out| self.write_target_file(out))
    }

    pub fn write_target_file(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(
            out,
            "{}/{}.{}",
            self.target_dir,
            self.table(),
            self.target_format
        )
    }

    /// Where the temporary files of the asset's steps go: each is this prefix followed
    /// by its suffix, i.e. `<tmp_dir>/<dataset>.<asset>.<suffix>`.
    pub fn temporary_prefix(&self) -> String {
        render(|out| self.write_temporary_prefix(out))
    }

    pub fn write_temporary_prefix(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(
            out,
            "{}/{}.{}.",
            self.resolved.tmp_dir.trim_end_matches('/'),
            self.dataset(),
            self.asset(),
        )
    }

    /// The declared columns with their types in `engine`, `None` when the computation
    /// decides them.
    /// Every contract of its columns, as `[column, contract, value, label]`, the label
    /// (`min=0`, `regex="^[A-Z]{2}$"`) as every engine's message prints it.
    pub fn contracts(&self) -> Vec<serde_json::Value> {
        let Some(columns) = self.resolved.columns.as_ref() else {
            return Vec::new();
        };
        columns
            .iter()
            .flat_map(|c| {
                c.contracts.iter().map(|(contract, value)| {
                    serde_json::json!([c.name, contract, value, format!("{contract}={value}")])
                })
            })
            .collect()
    }

    /// What the source calls each column, in schema order, when the schema reads its
    /// columns by name (`source_names`); `None` otherwise.
    pub fn source_names(&self) -> Option<Vec<&str>> {
        let columns = self.resolved.columns.as_ref()?;
        columns.iter().map(|c| c.source_name.as_deref()).collect()
    }

    pub fn column_types(&self, engine: Engine) -> Option<Vec<(String, &'static str, bool)>> {
        self.resolved.columns.as_ref().map(|columns| {
            columns
                .iter()
                .map(|c| (c.name.clone(), c.kind.column_type(engine), c.nullable))
                .collect()
        })
    }
}

/// A name written by one of the `write_*` methods (writing to a `String` cannot fail).
fn render(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut out = String::new();
    let _ = write(&mut out);
    out
}

/// The asset at `node` as its engine computes it, or `None` when it is not computed.
pub fn lake_asset(tree: &ConceptTree, node: usize) -> Result<Option<LakeAsset>> {
    let Some(resolved) = resolve(tree, node)? else {
        return Ok(None);
    };
    let path = tree.display_path(node);
    let mut sources = Vec::with_capacity(resolved.sources.len());
    for source in &resolved.sources {
        let view = match &source.model {
            Some(_) => None,
            None => match lake_asset(tree, source.node)? {
                Some(view) => Some(view),
                None => {
                    return Err(AoristError::new(
                        ErrorKind::UnsatisfiableConstraint,
                        format!("{path} / setup.source_asset_names[{:?}]", source.role),
                        format!(
                            "{}.{} is not computed by aorist (it has a LocalStorageSetup), \
                             so it cannot be read as a lake table",
                            source.dataset, source.table
                        ),
                        "compute from an asset that is replicated into the lake or derived",
                    ))
                }
            },
        };
        sources.push(view);
    }
    let placement = match &resolved.target {
        Some(storage) => {
            let field = match resolved.computation {
                Computation::Replicate(_) => "setup.targets[0]",
                _ => "setup.target",
            };
            place(
                tree,
                &resolved.dataset,
                storage,
                &format!("{path} / {field}"),
            )?
        }
        // A model's metrics table lands beside the table it was trained on.
        None => match sources.iter().flatten().next() {
            Some(source) => Placement {
                engine: source.engine,
                schema: source.schema.clone(),
                format: if source.engine.has_files() {
                    "parquet"
                } else {
                    "table"
                },
                dir: if source.engine.has_files() {
                    resolved.dataset.clone()
                } else {
                    source.schema.clone()
                },
            },
            None => Placement {
                engine: EngineKind::Lake,
                schema: resolved.dataset.clone(),
                format: "parquet",
                dir: resolved.dataset.clone(),
            },
        },
    };
    let mut source_files = Vec::with_capacity(resolved.sources.len());
    for (source, view) in resolved.sources.iter().zip(&sources) {
        if let Some(view) = view {
            if view.engine != placement.engine {
                return Err(AoristError::new(
                    ErrorKind::UnsupportedStorage,
                    format!("{path} / setup.source_asset_names[{:?}]", source.role),
                    format!(
                        "{}.{} is a table of the {} engine, but this asset is computed by \
                         the {} engine, and an engine reads only its own tables",
                        source.dataset,
                        source.table,
                        view.engine.name(),
                        placement.engine.name()
                    ),
                    "write both assets to the same kind of storage (HiveTableStorage or \
                     PostgresStorage), or replicate the source into this asset's engine too",
                ));
            }
        }
        source_files.push(match (&source.model, view) {
            (Some(model), _) => model.file.clone(),
            (None, Some(view)) => view.target_file(),
            (None, None) => String::new(),
        });
    }
    let target_dir = format!("{}/{}", placement.dir, resolved.table);
    Ok(Some(LakeAsset {
        resolved,
        engine: placement.engine,
        schema: placement.schema,
        target_format: placement.format,
        target_dir,
        source_files,
    }))
}
