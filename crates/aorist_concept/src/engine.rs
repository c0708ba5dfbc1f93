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

#[cfg(test)]
mod tests {
    use crate::fixtures::universe_at;
    use crate::lake::lake_asset;
    use crate::names::DerivedNames;
    use crate::ConceptTree;
    use aorist_error::ErrorKind;

    /// The fixture universe with `endpoints` (JSON fields of EndpointConfig besides
    /// `lake`) and every target replaced by `target` (JSON of a storage), if given.
    fn with(endpoints: &str, target: Option<&str>) -> ConceptTree {
        let tree = universe_at(&[("a", "a", &["b__c"]), ("a__b", "a__b", &["c"])]);
        let mut json = serde_json::to_value(&tree.universe).unwrap();
        let mut config: serde_json::Value = serde_json::from_str(&format!(
            r#"{{"lake": {{"path": "lake"}}, "minio": null, "trino": null, "postgres": null,
                "spark": null, "aws": null, {endpoints}}}"#
        ))
        .unwrap();
        json["endpoints"] = config.take();
        if let Some(target) = target {
            for dataset in json["datasets"].as_array_mut().unwrap() {
                for asset in dataset["assets"].as_array_mut().unwrap() {
                    asset["setup"]["targets"][0] = serde_json::from_str(target).unwrap();
                }
            }
        }
        ConceptTree::from_json(&json.to_string()).unwrap()
    }

    fn engines(tree: &ConceptTree) -> Vec<&'static str> {
        (0..tree.nodes.len())
            .filter_map(|node| lake_asset(tree, node).unwrap())
            .map(|view| view.engine.name())
            .collect()
    }

    const MINIO: &str = r#""minio": {"server": "127.0.0.1", "port": 8333, "bucket": "b",
        "access_key_env": "K", "secret_key_env": "S"}"#;
    const SPARK: &str = r#""spark": {"master": "local[1]", "warehouse_dir": "w"}"#;
    const POSTGRES: &str = r#""postgres": {"server": "127.0.0.1", "port": 5432,
        "username": "u", "password_env": "P", "database": "d"}"#;

    #[test]
    fn endpoints_choose_the_engine_of_hive_tables() {
        assert_eq!(engines(&with(r#""aws": null"#, None)), ["lake", "lake"]);
        assert_eq!(engines(&with(MINIO, None)), ["objectstore", "objectstore"]);
        assert_eq!(engines(&with(SPARK, None)), ["spark", "spark"]);
        // A postgres endpoint alone leaves Hive tables in the lake.
        assert_eq!(engines(&with(POSTGRES, None)), ["lake", "lake"]);
    }

    #[test]
    fn postgres_storage_lands_in_its_schema() {
        let target = r#"{"kind": "PostgresStorage", "layout": {"kind": "StaticTabularLayout"},
            "location": {"kind": "PostgresLocation", "database": "d", "schema": "s"}}"#;
        let tree = with(POSTGRES, Some(target));
        let view = (0..tree.nodes.len())
            .find_map(|node| lake_asset(&tree, node).unwrap())
            .unwrap();
        assert_eq!(view.engine.name(), "postgres");
        assert_eq!(view.target_table(), ["s", "b__c"]);
        let error = (0..tree.nodes.len())
            .map(|node| lake_asset(&with(r#""aws": null"#, Some(target)), node))
            .find_map(Result::err)
            .unwrap();
        assert_eq!(error.kind, ErrorKind::UnsupportedStorage);
        assert!(error.fix.contains("postgres=PostgresConfig("), "{error}");
    }

    #[test]
    fn refused_endpoints_name_what_would_serve() {
        let trino = r#""trino": {"server": "127.0.0.1", "http_port": 8080, "user": "u"}"#;
        for (endpoints, names) in [
            (trino.to_string(), "spark=SparkConfig("),
            (format!("{MINIO}, {SPARK}"), "drop spark"),
        ] {
            let tree = with(&endpoints, None);
            let error = (0..tree.nodes.len())
                .map(|node| lake_asset(&tree, node))
                .find_map(Result::err)
                .unwrap();
            assert_eq!(error.kind, ErrorKind::UnsupportedStorage);
            assert!(error.fix.contains(names), "{error}");
        }
    }

    #[test]
    fn spark_staging_names_that_meet_are_reported() {
        // `a`.`b__c` and `a__b`.`c` both stage as `_staging`.`a__b__c` in Hive.
        let tree = with(SPARK, None);
        let mut names = DerivedNames::for_tree(&tree);
        for node in 0..tree.nodes.len() {
            if let Some(view) = lake_asset(&tree, node).unwrap() {
                names.add(&tree, node, &view);
            }
        }
        let error = names.check(&tree).unwrap_err();
        assert_eq!(error.kind, ErrorKind::DuplicateName);
        assert!(error.cause.contains("a__b__c"), "{error}");
        // The lake keeps them apart.
        let tree = with(r#""aws": null"#, None);
        let mut names = DerivedNames::for_tree(&tree);
        for node in 0..tree.nodes.len() {
            if let Some(view) = lake_asset(&tree, node).unwrap() {
                names.add(&tree, node, &view);
            }
        }
        names.check(&tree).unwrap();
    }
}
