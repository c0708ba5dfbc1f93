//! How the embedded lake sees an asset: where its data comes from, how it is encoded,
//! and which lake table it must become.
//!
//! This is where "a storage the embedded lake cannot serve" is decided, once, so that
//! constraint conditions and recipe parameters agree.

use crate::{
    Asset, AttributeKind, ConceptTree, Encoding, Engine, Location, StaticDataTable, Storage,
    StorageSetup,
};
use aorist_error::{AoristError, ErrorKind, Result};
use std::fmt;

/// An asset replicated from a file source into a lake table.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    pub dataset: String,
    pub asset: String,
    /// An http(s) URL, or a local path for `LocalFileStorage`.
    pub source_url: String,
    pub sha256: Option<String>,
    /// `gzip`, `zip` or `bz2`.
    pub compression: Option<&'static str>,
    pub header_lines: i64,
    /// `csv`, `tsv` or `jsonl`.
    pub source_format: &'static str,
    pub tmp_dir: String,
    /// `orc` or `parquet`.
    pub target_format: &'static str,
    /// The lake directory the table's files live in, e.g. `snap/ca_astroph`.
    pub target_dir: String,
    pub columns: Vec<(String, AttributeKind)>,
    /// Per column, in order: whether the schema lets it hold NULL.
    pub nullable: Vec<bool>,
}

/// The schema staging views live in, apart from the datasets' schemas.
pub const STAGING_SCHEMA: &str = "_staging";

/// The names an asset's replication derives. Dataset and asset names are identifiers
/// (`[A-Za-z_][A-Za-z0-9_]*`), so the `.` and `/` that join them cannot occur inside
/// them: each name is injective in (dataset, asset), or (location, asset) for the
/// table's lake directory. [`crate::names`] records them as each asset is resolved and
/// checks, once all are, that no two assets share one, ignoring case. The `write_*`
/// forms stream a name into a sink, so that check allocates nothing per asset.
impl Replication {
    /// The lake table, `<dataset>.<asset>`, as name parts.
    pub fn target_table(&self) -> [&str; 2] {
        [&self.dataset, &self.asset]
    }

    /// The staging view, `_staging."<dataset>.<asset>"`, as name parts.
    pub fn staging_view(&self) -> [String; 2] {
        [
            STAGING_SCHEMA.to_string(),
            render(|out| self.write_staging_view_name(out)),
        ]
    }

    /// The staging view's name within [`STAGING_SCHEMA`]: `<dataset>.<asset>`. A quoted
    /// identifier may hold the dot that keeps `a`/`b__c` apart from `a__b`/`c`.
    pub fn write_staging_view_name(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{}.{}", self.dataset, self.asset)
    }

    /// The staged CSV file, lake-relative: `_staging/<dataset>/<asset>.csv`.
    pub fn staging_file(&self) -> String {
        render(|out| self.write_staging_file(out))
    }

    pub fn write_staging_file(&self, out: &mut impl fmt::Write) -> fmt::Result {
        self.write_staging_dir(out)?;
        write!(out, "/{}.csv", self.asset)
    }

    /// The directory of the dataset's staged files, lake-relative: `_staging/<dataset>`.
    pub fn write_staging_dir(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{STAGING_SCHEMA}/{}", self.dataset)
    }

    /// The table's file in its target encoding, lake-relative:
    /// `<location>/<asset>/<asset>.<format>` (inside [`Replication::target_dir`]).
    pub fn target_file(&self) -> String {
        render(|out| self.write_target_file(out))
    }

    pub fn write_target_file(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(
            out,
            "{}/{}.{}",
            self.target_dir, self.asset, self.target_format
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
            self.tmp_dir.trim_end_matches('/'),
            self.dataset,
            self.asset,
        )
    }

    pub fn column_types(&self, engine: Engine) -> Vec<(String, &'static str)> {
        self.columns
            .iter()
            .map(|(name, kind)| (name.clone(), kind.column_type(engine)))
            .collect()
    }
}

/// A name written by one of the `write_*` methods (writing to a `String` cannot fail).
fn render(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut out = String::new();
    let _ = write(&mut out);
    out
}

/// The replication an asset needs, or `None` when its setup is not a replication.
pub fn replication(tree: &ConceptTree, node: usize) -> Result<Option<Replication>> {
    let (Some(dataset), Some(asset)) = (tree.dataset_of(node), tree.asset_of(node)) else {
        return Ok(None);
    };
    let Asset::StaticDataTable(table) = asset;
    let path = tree.display_path(node);
    let (source, target, tmp_dir, tmp_encoding) = match &table.setup {
        StorageSetup::RemoteStorageSetup(setup) => (
            &setup.remote,
            None,
            setup
                .tmp_dir
                .clone()
                .unwrap_or_else(|| format!("tmp/{}", dataset.name)),
            None,
        ),
        StorageSetup::ReplicationStorageSetup(setup) => {
            if setup.targets.len() != 1 {
                return Err(AoristError::new(
                    ErrorKind::UnsupportedStorage,
                    format!("{path} / setup.targets"),
                    format!(
                        "the embedded lake replicates into exactly one target, not {}",
                        setup.targets.len()
                    ),
                    "declare one HiveTableStorage target per asset",
                ));
            }
            (
                &setup.source,
                setup.targets.first(),
                setup.tmp_dir.clone(),
                Some(&setup.tmp_encoding),
            )
        }
        StorageSetup::LocalStorageSetup(_) => return Ok(None),
    };
    check_endpoints(tree, &path)?;
    if let Some(encoding) = tmp_encoding {
        match encoding {
            Encoding::CSVEncoding(csv) if csv.compression.is_none() && csv.header.is_none() => {}
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
    }
    let (source_url, sha256, source_encoding) = source_file(source, &path)?;
    let (compression, header_lines, source_format) = source_shape(source_encoding, &path)?;
    let (target_format, lake_dir) = match target {
        None => ("parquet", dataset.name.clone()),
        Some(storage) => lake_target(storage, &path)?,
    };
    Ok(Some(Replication {
        dataset: dataset.name.clone(),
        asset: table.name.clone(),
        source_url,
        sha256,
        compression,
        header_lines,
        source_format,
        tmp_dir,
        target_format,
        target_dir: format!("{lake_dir}/{}", table.name),
        columns: columns(table),
        nullable: nullable(table),
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

fn source_file<'a>(
    storage: &'a Storage,
    path: &str,
) -> Result<(String, Option<String>, &'a Encoding)> {
    let unsupported = |what: String| {
        AoristError::new(
            ErrorKind::UnsupportedStorage,
            format!("{path} / setup.source"),
            what,
            "replicate from a RemoteStorage with a WebLocation, or a LocalFileStorage",
        )
    };
    match storage {
        Storage::RemoteStorage(remote) => match &remote.location {
            Location::WebLocation(web) => {
                Ok((web.address.clone(), remote.sha256.clone(), &remote.encoding))
            }
            Location::LocalFileSystemLocation(local) => {
                Ok((local.path.clone(), remote.sha256.clone(), &remote.encoding))
            }
            other => Err(unsupported(format!(
                "the embedded lake cannot download from a {}",
                other.kind()
            ))),
        },
        Storage::LocalFileStorage(local) => match &local.location {
            Location::LocalFileSystemLocation(location) => {
                Ok((location.path.clone(), None, &local.encoding))
            }
            other => Err(unsupported(format!(
                "a LocalFileStorage must be at a LocalFileSystemLocation, not a {}",
                other.kind()
            ))),
        },
        other => Err(unsupported(format!(
            "a {} is not a file source the embedded lake can replicate",
            other.kind()
        ))),
    }
}

fn source_shape(
    encoding: &Encoding,
    path: &str,
) -> Result<(Option<&'static str>, i64, &'static str)> {
    let compression_name = |compression: &Option<crate::Compression>| {
        compression.as_ref().map(|c| match c {
            crate::Compression::GzipCompression(_) => "gzip",
            crate::Compression::ZipCompression(_) => "zip",
            crate::Compression::BZip2Compression(_) => "bz2",
        })
    };
    let header = |header: &Option<crate::CSVHeader>| header.as_ref().map_or(0, |h| h.num_lines);
    match encoding {
        Encoding::CSVEncoding(csv) => Ok((
            compression_name(&csv.compression),
            header(&csv.header),
            "csv",
        )),
        Encoding::TSVEncoding(tsv) => Ok((
            compression_name(&tsv.compression),
            header(&tsv.header),
            "tsv",
        )),
        Encoding::NewlineDelimitedJSONEncoding(json) => {
            Ok((compression_name(&json.compression), 0, "jsonl"))
        }
        other => Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            format!("{path} / setup.source.encoding"),
            format!(
                "the embedded lake cannot replicate a source encoded as {}",
                other.kind()
            ),
            "use a CSVEncoding, TSVEncoding or NewlineDelimitedJSONEncoding source",
        )),
    }
}

fn lake_target(storage: &Storage, path: &str) -> Result<(&'static str, String)> {
    let Storage::HiveTableStorage(hive) = storage else {
        return Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            format!("{path} / setup.targets[0]"),
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
                format!("{path} / setup.targets[0].encoding"),
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
                format!("{path} / setup.targets[0].location"),
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

fn columns(table: &StaticDataTable) -> Vec<(String, AttributeKind)> {
    match &table.schema {
        crate::Schema::TabularSchema(schema) => schema
            .attributes
            .iter()
            .map(|attribute| (attribute.name.clone(), attribute.kind))
            .collect(),
    }
}

fn nullable(table: &StaticDataTable) -> Vec<bool> {
    match &table.schema {
        crate::Schema::TabularSchema(schema) => schema
            .attributes
            .iter()
            .map(|attribute| attribute.nullable)
            .collect(),
    }
}
