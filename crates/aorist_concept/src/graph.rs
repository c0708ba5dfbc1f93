//! The asset graph: which assets each derived asset is computed from.
//!
//! A `ComputedFromLocalData` setup maps roles to assets, `"asset"` in the same dataset
//! or `"dataset.asset"` in another. [`sources`] resolves those references to nodes of
//! the tree; [`check`] refuses references to nothing and cycles, naming the asset paths,
//! so every later stage may assume the graph is a DAG of existing assets.

use std::collections::HashMap;

use aorist_error::{AoristError, ErrorKind, Result};

use crate::{asset_name, asset_setup, ConceptTree, NodeKind, StorageSetup};

/// The node a reference from `dataset` names, if any.
fn resolve(index: &HashMap<(&str, &str), usize>, dataset: &str, reference: &str) -> Option<usize> {
    let (d, a) = reference.split_once('.').unwrap_or((dataset, reference));
    index.get(&(d, a)).copied()
}

fn index(tree: &ConceptTree) -> HashMap<(&str, &str), usize> {
    let mut index = HashMap::new();
    for (id, node) in tree.nodes.iter().enumerate() {
        if node.kind == NodeKind::Asset {
            if let (Some(dataset), Some(asset)) = (tree.dataset_of(id), tree.asset_of(id)) {
                index.insert((dataset.name.as_str(), asset_name(asset)), id);
            }
        }
    }
    index
}

/// The roles of the asset at `node` and the references they make, sorted by role.
pub fn references(tree: &ConceptTree, node: usize) -> Vec<(&str, &str)> {
    match tree.asset_of(node).map(asset_setup) {
        Some(StorageSetup::ComputedFromLocalData(setup)) => setup
            .source_asset_names
            .iter()
            .map(|(role, reference)| (role.as_str(), reference.as_str()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Per node, the (role, node) pairs it is computed from; references to nothing are left
/// out (and refused by [`check`]).
pub fn sources(tree: &ConceptTree) -> Vec<Vec<(String, usize)>> {
    let index = index(tree);
    (0..tree.nodes.len())
        .map(|node| {
            let Some(dataset) = tree.dataset_of(node) else {
                return Vec::new();
            };
            references(tree, node)
                .into_iter()
                .filter_map(|(role, reference)| {
                    resolve(&index, &dataset.name, reference).map(|id| (role.to_string(), id))
                })
                .collect()
        })
        .collect()
}

/// `dataset.asset`, how the graph names an asset in messages.
pub fn qualified(tree: &ConceptTree, node: usize) -> String {
    match tree.nodes.get(node) {
        Some(n) if n.names.len() == 3 => format!("{}.{}", n.names[1], n.names[2]),
        _ => tree.display_path(node),
    }
}

/// Refuse references to no asset and cycles among derived assets.
pub fn check(tree: &ConceptTree) -> Result<()> {
    for node in 0..tree.nodes.len() {
        let Some(dataset) = tree.dataset_of(node) else {
            continue;
        };
        for (role, reference) in references(tree, node) {
            // [`sources`] resolved what it could: only a reference to nothing is left.
            if tree.sources[node]
                .iter()
                .any(|(resolved, _)| resolved == role)
            {
                continue;
            }
            let index = index(tree);
            let mut names: Vec<String> = index
                .keys()
                .map(|(d, a)| {
                    if *d == dataset.name {
                        a.to_string()
                    } else {
                        format!("{d}.{a}")
                    }
                })
                .collect();
            names.sort();
            let mut near: Vec<(usize, &String)> = names
                .iter()
                .map(|name| (distance(name, reference), name))
                .filter(|(d, name)| *d <= reference.len().max(name.len()) / 3 + 1)
                .collect();
            near.sort();
            let nearest: Vec<String> = near
                .iter()
                .take(3)
                .map(|(_, name)| format!("{name:?}"))
                .collect();
            let (where_, what) = match reference.split_once('.') {
                Some((d, a)) => (format!("dataset '{d}'"), a),
                None => (format!("dataset '{}'", dataset.name), reference),
            };
            return Err(AoristError::new(
                ErrorKind::UnknownReference,
                format!(
                    "{} / setup.source_asset_names[{role:?}]",
                    tree.display_path(node)
                ),
                format!(
                    "{reference:?} names no asset: {where_} has no asset {what:?} (assets: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
                if nearest.is_empty() {
                    "name an asset of the universe: \"asset\" in the same dataset or \
                     \"dataset.asset\""
                        .to_string()
                } else {
                    format!("did you mean {}?", nearest.join(" or "))
                },
            ));
        }
    }
    // Depth-first search with explicit stacks: 0 unvisited, 1 on the path, 2 done.
    let mut state = vec![0u8; tree.nodes.len()];
    for start in 0..tree.nodes.len() {
        if state[start] != 0 || tree.sources[start].is_empty() {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            let Some((_, source)) = tree.sources[node].get(*next) else {
                state[node] = 2;
                path.pop();
                continue;
            };
            *next += 1;
            let source = *source;
            match state[source] {
                0 => {
                    state[source] = 1;
                    path.push((source, 0));
                }
                1 => {
                    let from = path.iter().position(|(n, _)| *n == source).unwrap_or(0);
                    let mut cycle: Vec<String> = path[from..]
                        .iter()
                        .map(|(n, _)| qualified(tree, *n))
                        .collect();
                    cycle.push(qualified(tree, source));
                    return Err(AoristError::new(
                        ErrorKind::Cycle,
                        tree.display_path(source),
                        format!(
                            "derived assets form a cycle: {} (each is computed from the next)",
                            cycle.join(" <- ")
                        ),
                        "compute one of these assets from something outside the cycle \
                         (change its source_asset_names)",
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Levenshtein distance between two names (they are short ASCII identifiers).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

/// Assets in an order where every asset follows the assets it is computed from
/// (declaration order otherwise); the graph is checked, so it is a DAG.
pub fn ordered(tree: &ConceptTree) -> Vec<usize> {
    let mut placed = vec![false; tree.nodes.len()];
    let mut order = Vec::new();
    for start in 0..tree.nodes.len() {
        if tree.nodes[start].kind != NodeKind::Asset || placed[start] {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            match tree.sources[node].get(*next) {
                Some((_, source)) => {
                    *next += 1;
                    if !placed[*source] && !stack.iter().any(|(n, _)| n == source) {
                        stack.push((*source, 0));
                    }
                }
                None => {
                    stack.pop();
                    if !placed[node] {
                        placed[node] = true;
                        order.push(node);
                    }
                }
            }
        }
    }
    order
}

/// How an asset comes to be, in a few words (for lineage).
fn how(tree: &ConceptTree, node: usize) -> String {
    use crate::asset::{resolve, Computation};
    match resolve(tree, node) {
        Ok(Some(resolved)) => match resolved.computation {
            Computation::Replicate(file) => format!("replicated from {}", file.url),
            Computation::Query { .. } => "SQL query".to_string(),
            Computation::Function { name } => format!("Python function {name}()"),
            Computation::Train(model) => format!(
                "{} model ({}), file {}, metrics table {}.{}",
                model.kind, model.algorithm, model.file, resolved.dataset, resolved.table
            ),
            Computation::Predict { model, .. } => {
                format!("{} predictions of the model in {}", model.kind, model.file)
            }
        },
        Ok(None) => "already in place (not computed)".to_string(),
        Err(error) => format!("cannot be computed: {}", error.cause),
    }
}

/// Asset-level lineage as text: one line per asset, sources first, each with what it
/// is computed from (by role) and how.
pub fn lineage_text(tree: &ConceptTree) -> String {
    let mut out = String::new();
    for node in ordered(tree) {
        let sources: Vec<String> = tree.sources[node]
            .iter()
            .map(|(role, source)| format!("{role}={}", qualified(tree, *source)))
            .collect();
        out.push_str(&qualified(tree, node));
        if !sources.is_empty() {
            out.push_str(&format!(" <- {}", sources.join(", ")));
        }
        out.push_str(&format!("  [{}]\n", how(tree, node)));
    }
    out
}

/// Asset-level lineage as Graphviz DOT: an edge from each source to what reads it,
/// labelled with the role.
pub fn lineage_dot(tree: &ConceptTree) -> String {
    let escape = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n");
    let order = ordered(tree);
    for &node in &order {
        out.push_str(&format!(
            "  a{node} [label=\"{}\\n{}\"];\n",
            escape(&qualified(tree, node)),
            escape(&how(tree, node))
        ));
    }
    for &node in &order {
        for (role, source) in &tree.sources[node] {
            out.push_str(&format!(
                "  a{source} -> a{node} [label=\"{}\"];\n",
                escape(role)
            ));
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aorist_error::ErrorKind;

    /// A universe of one dataset `d` whose assets are derived by SQL from the named
    /// sources, e.g. `[("a", &["b"]), ("b", &[])]`.
    fn tree(assets: &[(&str, &[&str])]) -> Result<ConceptTree> {
        let assets: Vec<String> = assets
            .iter()
            .map(|(name, sources)| {
                let roles: Vec<String> = sources
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("\"r{i}\": \"{s}\""))
                    .collect();
                format!(
                    r#"{{"kind": "StaticDataTable", "name": "{name}", "tag": null, "comment": null,
                      "schema": {{"kind": "UndefinedTabularSchema"}},
                      "setup": {{"kind": "ComputedFromLocalData", "source_asset_names": {{{}}},
                        "sql": "SELECT 1", "function": null, "tmp_dir": null,
                        "target": {{"kind": "HiveTableStorage", "layout": {{"kind": "StaticTabularLayout"}},
                          "location": {{"kind": "MinioLocation", "name": "d"}}, "encoding": {{"kind": "ParquetEncoding"}}}}}}}}"#,
                    roles.join(", ")
                )
            })
            .collect();
        let text = format!(
            r#"{{"name": "u", "datasets": [{{"name": "d", "description": "", "assets": [{}],
              "datum_templates": [], "access_policies": [], "tag": null}}],
              "endpoints": {{"lake": {{"path": "lake"}}, "minio": null, "trino": null, "postgres": null, "spark": null, "aws": null}},
              "users": [], "groups": [], "role_bindings": [], "compliance": null}}"#,
            assets.join(", ")
        );
        ConceptTree::from_json(&text)
    }

    #[test]
    fn sources_resolve_and_order_puts_them_first() {
        let tree = tree(&[("c", &["b"]), ("b", &["a", "d.a"]), ("a", &[])]).unwrap();
        let names = |nodes: Vec<usize>| -> Vec<String> {
            nodes.into_iter().map(|n| qualified(&tree, n)).collect()
        };
        assert_eq!(names(ordered(&tree)), ["d.a", "d.b", "d.c"]);
        assert_eq!(tree.sources[3].len(), 2);
    }

    #[test]
    fn a_cycle_is_printed_as_asset_paths() {
        let error = tree(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"])]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Cycle);
        assert!(
            error.cause.contains("d.a <- d.c <- d.b <- d.a"),
            "{}",
            error.cause
        );
    }

    #[test]
    fn an_unknown_source_suggests_the_nearest_names() {
        let error = tree(&[("edges", &[]), ("x", &["edgez"])]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnknownReference);
        assert!(error
            .path
            .ends_with("asset 'x' / setup.source_asset_names[\"r0\"]"));
        assert_eq!(error.fix, "did you mean \"edges\"?");
    }
}
