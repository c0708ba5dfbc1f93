//! Which engine serves a storage: decided here, once, per asset, from the storage it is
//! written to and the universe's endpoints. Everything else about an engine is a module
//! of recipes (`recipes/python/<engine>/`, selected by the `engine` fact) and its facts;
//! no other stage branches on it.
//!
//! | storage            | endpoints            | engine                          |
//! |--------------------|----------------------|---------------------------------|
//! | `HiveTableStorage` | none                 | the embedded lake (DuckDB)      |
//! | `HiveTableStorage` | `minio`              | object store + embedded catalog |
//! | `HiveTableStorage` | `spark`              | Spark with its Hive metastore   |
//! | `PostgresStorage`  | `postgres`           | PostgreSQL                      |
//!
//! Refused, each with what would serve it: a Trino endpoint (no Trino server can run
//! where generated code is tested; Spark serves the same Hive tables), Spark together
//! with an object store (Spark reaches S3 only through hadoop-aws, which is not
//! shipped), a `PostgresStorage` without a `postgres` endpoint, and storages no engine
//! writes tables to.

use crate::{ConceptTree, Encoding, Location, Storage};
use aorist_error::{AoristError, ErrorKind, Result};

/// The engine that computes and stores an asset's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// Files under `LAKE_PATH`, tables in `<lake>/lake.duckdb`.
    Lake,
    /// Files in an S3-compatible bucket; DuckDB reads them through pyarrow.
    ObjectStore,
    /// Spark SQL, tables in the Hive metastore over files under the warehouse.
    Spark,
    /// Tables of a PostgreSQL database.
    Postgres,
}

impl EngineKind {
    /// The value of the `engine` fact recipes select on.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Lake => "lake",
            EngineKind::ObjectStore => "objectstore",
            EngineKind::Spark => "spark",
            EngineKind::Postgres => "postgres",
        }
    }

    /// Whether the engine's tables are files in a target encoding (ORC or Parquet).
    pub fn has_files(self) -> bool {
        !matches!(self, EngineKind::Postgres)
    }
}

/// Where a table lands: its engine, its schema (database) and, for engines of files,
/// the encoding and the directory (relative to the lake, the bucket or the warehouse).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub engine: EngineKind,
    /// The schema the table is created in: the dataset's name, or the PostgreSQL schema.
    pub schema: String,
    /// `orc` or `parquet`; `table` for an engine without files.
    pub format: &'static str,
    /// The directory the table's files live in, before `/<table>`.
    pub dir: String,
}

/// Where the asset's table lands when its setup names `storage` (at `field`).
pub fn place(
    tree: &ConceptTree,
    dataset: &str,
    storage: &Storage,
    field: &str,
) -> Result<Placement> {
    match storage {
        Storage::HiveTableStorage(hive) => {
            let engine = hive_engine(tree, field)?;
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
                        "use MinioLocation(name=...) (a directory of the lake, the bucket or \
                         the Spark warehouse)",
                    ))
                }
            };
            Ok(Placement {
                engine,
                schema: dataset.to_string(),
                format,
                dir,
            })
        }
        Storage::PostgresStorage(postgres) => {
            let Some(config) = &tree.universe.endpoints.postgres else {
                return Err(AoristError::new(
                    ErrorKind::UnsupportedStorage,
                    field.to_string(),
                    "a PostgresStorage needs a PostgreSQL server, and the universe \
                     configures none",
                    "pass endpoints=EndpointConfig(postgres=PostgresConfig(server=..., \
                     port=5432, username=..., password_env=..., database=...)), or \
                     replicate into HiveTableStorage for the embedded lake",
                ));
            };
            let Location::PostgresLocation(location) = &postgres.location else {
                return Err(AoristError::new(
                    ErrorKind::UnsupportedStorage,
                    format!("{field}.location"),
                    format!(
                        "a PostgreSQL table lives at a PostgresLocation, not a {}",
                        postgres.location.kind()
                    ),
                    "use PostgresLocation(database=..., schema=...)",
                ));
            };
            if location.database != config.database {
                return Err(AoristError::new(
                    ErrorKind::UnsupportedStorage,
                    format!("{field}.location.database"),
                    format!(
                        "the table is declared in database {:?}, but the postgres endpoint \
                         connects to {:?}",
                        location.database, config.database
                    ),
                    format!(
                        "declare PostgresLocation(database={:?}, ...) or point \
                         PostgresConfig.database at {:?}",
                        config.database, location.database
                    ),
                ));
            }
            Ok(Placement {
                engine: EngineKind::Postgres,
                schema: location.schema.clone(),
                format: "table",
                dir: location.schema.clone(),
            })
        }
        other => Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            field.to_string(),
            format!("no engine writes tables to a {}", other.kind()),
            "replicate into HiveTableStorage(location=MinioLocation(name=...), \
             encoding=ORCEncoding() or ParquetEncoding()) (the embedded lake, an object \
             store or Spark) or PostgresStorage(location=PostgresLocation(...)) with a \
             postgres endpoint",
        )),
    }
}

/// The engine serving Hive tables under the universe's endpoints.
fn hive_engine(tree: &ConceptTree, field: &str) -> Result<EngineKind> {
    let endpoints = &tree.universe.endpoints;
    if endpoints.trino.is_some() {
        return Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            field.to_string(),
            "HiveTableStorage through the trino endpoint is not generated: no Trino server \
             can be run where generated code is tested, and aorist does not generate code \
             it cannot run",
            "serve the same Hive tables with Spark: replace trino=TrinoConfig(...) by \
             spark=SparkConfig(master=..., warehouse_dir=...)",
        ));
    }
    match (&endpoints.spark, &endpoints.minio) {
        (Some(_), Some(_)) => Err(AoristError::new(
            ErrorKind::UnsupportedStorage,
            field.to_string(),
            "HiveTableStorage with both the spark and the minio endpoints would need Spark \
             to read and write s3a:// paths, which needs the hadoop-aws jars that pyspark \
             does not ship",
            "keep spark and put its warehouse_dir on HDFS or a shared mount, or keep minio \
             and drop spark (the object store with the embedded DuckDB catalog)",
        )),
        (Some(_), None) => Ok(EngineKind::Spark),
        (None, Some(_)) => Ok(EngineKind::ObjectStore),
        (None, None) => Ok(EngineKind::Lake),
    }
}
