//! Universes for tests of the stages downstream (enabled by the `fixtures` feature).
#![allow(clippy::panic)]

use crate::ConceptTree;

/// One gzip TSV asset with 4 header lines, replicated to ORC in the lake directory
/// `location`.
pub fn asset(name: &str, location: &str) -> String {
    format!(
        r#"{{"kind": "StaticDataTable", "name": "{name}", "tag": null, "comment": null,
      "schema": {{"kind": "TabularSchema",
        "datum_template": {{"kind": "IdentifierTuple", "name": "edge", "attributes": []}},
        "attributes": [{{"kind": "NumericIdentifier", "name": "from_id", "comment": null, "nullable": false}}],
        "source_names": null}},
      "setup": {{"kind": "ReplicationStorageSetup", "tmp_dir": "tmp", "tmp_encoding": {{"kind": "CSVEncoding", "compression": null, "header": null, "delimiter": ",", "quote": "\""}},
        "source": {{"kind": "RemoteStorage", "sha256": null, "layout": {{"kind": "SingleFileLayout"}},
          "location": {{"kind": "WebLocation", "address": "http://127.0.0.1/{name}.gz"}},
          "encoding": {{"kind": "TSVEncoding", "compression": {{"kind": "GzipCompression"}}, "header": {{"num_lines": 4}}}}}},
        "targets": [{{"kind": "HiveTableStorage", "layout": {{"kind": "StaticTabularLayout"}},
          "location": {{"kind": "MinioLocation", "name": "{location}"}}, "encoding": {{"kind": "ORCEncoding"}}}}]}}}}"#
    )
}

/// A universe of gzip TSV assets (4 header lines) replicated to ORC, by dataset; each
/// dataset's tables live in the lake directory named after it.
pub fn universe(datasets: &[(&str, &[&str])]) -> ConceptTree {
    let located: Vec<(&str, &str, &[&str])> = datasets
        .iter()
        .map(|(name, assets)| (*name, *name, *assets))
        .collect();
    universe_at(&located)
}

/// As [`universe`], with each dataset's lake directory: (dataset, location, assets).
pub fn universe_at(datasets: &[(&str, &str, &[&str])]) -> ConceptTree {
    let datasets: Vec<String> = datasets
        .iter()
        .map(|(name, location, assets)| {
            let assets: Vec<String> = assets.iter().map(|a| asset(a, location)).collect();
            format!(
                r#"{{"name": "{name}", "description": "", "datum_templates": [], "access_policies": [],
                 "tag": null, "assets": [{}]}}"#,
                assets.join(",")
            )
        })
        .collect();
    let text = format!(
        r#"{{"name": "u", "datasets": [{}],
      "endpoints": {{"lake": {{"path": "lake"}}, "minio": null, "trino": null, "postgres": null, "spark": null, "aws": null}},
      "users": [], "groups": [], "role_bindings": [], "compliance": null}}"#,
        datasets.join(",")
    );
    match ConceptTree::from_json(&text) {
        Ok(tree) => tree,
        Err(error) => panic!("fixture universe does not parse: {error}"),
    }
}
