//! How the embedded lake sees an asset: where its data comes from, how it is encoded,
//! and which lake table it must become.
//!
//! This is where "a storage the embedded lake cannot serve" is decided, once, so that
//! constraint conditions and recipe parameters agree.

use crate::asset::{resolve, Computation, FileSource, Resolved};
use crate::{ConceptTree, Encoding, Engine, Location, Storage};
use aorist_error::{AoristError, ErrorKind, Result};
use std::fmt;

/// An asset as the embedded lake computes it: the resolved asset, and the lake table
/// it writes (`<dataset>.<table>`, files under `target_dir`).
#[derive(Debug, Clone, PartialEq)]
pub struct LakeAsset {
    pub resolved: Resolved,
    /// `orc` or `parquet`.
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

    /// The lake table, `<dataset>.<table>`, as name parts.
    pub fn target_table(&self) -> [&str; 2] {
        [self.dataset(), self.table()]
    }

    /// The staging view, `_staging."<dataset>.<asset>"`, as name parts.
    pub fn staging_view(&self) -> [String; 2] {
        [
            STAGING_SCHEMA.to_string(),
            render(|out| self.write_staging_view_name(out)),
        ]
    }

    /// The staging view's name within [`STAGING_SCHEMA`]: `<dataset>.<table>`. A quoted
    /// identifier may hold the dot that keeps `a`/`b__c` apart from `a__b`/`c`.
    pub fn write_staging_view_name(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{}.{}", self.dataset(), self.table())
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

/// The asset at `node` as the embedded lake computes it, or `None` when it is not
/// computed.
pub fn lake_asset(tree: &ConceptTree, node: usize) -> Result<Option<LakeAsset>> {
    let Some(resolved) = resolve(tree, node)? else {
        return Ok(None);
    };
    let path = tree.display_path(node);
    check_endpoints(tree, &path)?;
    let (target_format, lake_dir) = match &resolved.target {
        None => ("parquet", resolved.dataset.clone()),
        Some(storage) => {
            let field = match resolved.computation {
                Computation::Replicate(_) => "setup.targets[0]",
                _ => "setup.target",
            };
            lake_target(storage, &format!("{path} / {field}"))?
        }
    };
    let target_dir = format!("{lake_dir}/{}", resolved.table);
    let mut source_files = Vec::with_capacity(resolved.sources.len());
    for source in &resolved.sources {
        let file = match &source.model {
            Some(model) => model.file.clone(),
            None => match lake_asset(tree, source.node)? {
                Some(view) => view.target_file(),
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
        source_files.push(file);
    }
    Ok(Some(LakeAsset {
        resolved,
        target_format,
        target_dir,
        source_files,
    }))
}

fn check_endpoints(tree: &ConceptTree, path: &str) -> Result<()> {
    let endpoints = &tree.universe.endpoints;
    let configured: Vec<&str> = [
        ("minio", endpoints.minio.is_some()),
        ("trino", endpoints.trino.is_some()),
        ("spark", endpoints.spark.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if configured.is_empty() {
        return Ok(());
    }
    Err(AoristError::new(
        ErrorKind::UnsupportedStorage,
        format!("{path} / setup"),
        format!(
            "lake tables served by the {} endpoint(s) are not supported by this version of \
             aorist; only the embedded lake is",
            configured.join(", ")
        ),
        "remove the minio/trino/spark endpoints to generate code for the embedded lake",
    ))
}

fn lake_target(storage: &Storage, field: &str) -> Result<(&'static str, String)> {
    let Storage::HiveTableStorage(hive) = storage else {
        return Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            field.to_string(),
            format!("the embedded lake cannot serve a {} target", storage.kind()),
            "replicate into HiveTableStorage(location=MinioLocation(name=...), \
             encoding=ORCEncoding() or ParquetEncoding())",
        ));
    };
    let format = match &hive.encoding {
        Encoding::ORCEncoding(_) => "orc",
        Encoding::ParquetEncoding(_) => "parquet",
        other => {
            return Err(AoristError::new(
                ErrorKind::UnsupportedStorage,
                format!("{field}.encoding"),
                format!("lake tables are ORC or Parquet, not {}", other.kind()),
                "use ORCEncoding() or ParquetEncoding()",
            ))
        }
    };
    let dir = match &hive.location {
        Location::MinioLocation(minio) => minio.name.clone(),
        other => {
            return Err(AoristError::new(
                ErrorKind::UnsupportedStorage,
                format!("{field}.location"),
                format!(
                    "a lake table lives at a MinioLocation, not a {}",
                    other.kind()
                ),
                "use MinioLocation(name=...) (a directory of the lake)",
            ))
        }
    };
    Ok((format, dir))
}
