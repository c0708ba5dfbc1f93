#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! The concept model: the typed tree a universe crosses into Rust as, and views of it.
//!
//! `generated.rs` is derived from `concepts/*.toml` by `scripts/generate.py`; this file
//! adds what is not declarative: an arena of the concepts constraints attach to (the
//! universe, its datasets, their assets), their paths, the lake view of an asset and the
//! check that no two assets derive one name.

pub mod asset;
pub mod engine;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod generated;
pub mod graph;
pub mod lake;
pub mod names;

pub use generated::*;

use aorist_error::{AoristError, ErrorKind, Result};

/// The kinds of concept constraints attach to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Universe,
    DataSet,
    Asset,
}

impl NodeKind {
    pub fn parse(name: &str) -> Option<NodeKind> {
        match name {
            "Universe" => Some(NodeKind::Universe),
            "DataSet" => Some(NodeKind::DataSet),
            "Asset" => Some(NodeKind::Asset),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Universe => "universe",
            NodeKind::DataSet => "dataset",
            NodeKind::Asset => "asset",
        }
    }
}

/// One concept constraints can attach to, with its position in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub parent: Option<usize>,
    /// Names from the universe down to this concept, e.g. `["my_cluster", "snap", "ca_astroph"]`.
    pub names: Vec<String>,
    pub dataset: Option<usize>,
    pub asset: Option<usize>,
}

/// A universe and the arena of its constraint-bearing concepts, in declaration order
/// (universe, then each dataset followed by its assets).
#[derive(Debug, Clone)]
pub struct ConceptTree {
    pub universe: Universe,
    pub nodes: Vec<Node>,
    /// Per node: the assets it is computed from, as (role, node), sorted by role
    /// (empty for concepts that are not derived assets); see [`graph`].
    pub sources: Vec<Vec<(String, usize)>>,
    /// Per dataset: true when another program computes it. A program reads such a
    /// dataset's assets (they are checked, not computed) and makes nothing of it true.
    pub external: Vec<bool>,
}

impl ConceptTree {
    /// Read the tree `Concept.to_tree()` produced in Python.
    pub fn from_json(text: &str) -> Result<ConceptTree> {
        let universe: Universe = serde_json::from_str(text).map_err(|error| {
            AoristError::new(
                ErrorKind::Declaration,
                "universe",
                format!("the universe does not match the concept model: {error}"),
                "construct the universe from aorist's concept classes",
            )
        })?;
        let tree = ConceptTree::new(universe);
        graph::check(&tree)?;
        Ok(tree)
    }

    pub fn new(universe: Universe) -> ConceptTree {
        let mut nodes = vec![Node {
            kind: NodeKind::Universe,
            parent: None,
            names: vec![universe.name.clone()],
            dataset: None,
            asset: None,
        }];
        for (d, dataset) in universe.datasets.iter().enumerate() {
            let dataset_node = nodes.len();
            nodes.push(Node {
                kind: NodeKind::DataSet,
                parent: Some(0),
                names: vec![universe.name.clone(), dataset.name.clone()],
                dataset: Some(d),
                asset: None,
            });
            for (a, asset) in dataset.assets.iter().enumerate() {
                nodes.push(Node {
                    kind: NodeKind::Asset,
                    parent: Some(dataset_node),
                    names: vec![
                        universe.name.clone(),
                        dataset.name.clone(),
                        asset_name(asset).to_string(),
                    ],
                    dataset: Some(d),
                    asset: Some(a),
                });
            }
        }
        let external = vec![false; universe.datasets.len()];
        let mut tree = ConceptTree {
            universe,
            nodes,
            sources: Vec::new(),
            external,
        };
        tree.sources = graph::sources(&tree);
        tree
    }

    /// Mark the datasets named in `names` as computed by another program (see
    /// `external`): the program of a dataset split from a universe reads them.
    pub fn set_external(&mut self, names: &[String]) -> Result<()> {
        for name in names {
            let Some(d) = self.universe.datasets.iter().position(|d| &d.name == name) else {
                return Err(AoristError::new(
                    ErrorKind::Declaration,
                    format!("universe '{}'", self.universe.name),
                    format!("the external dataset {name:?} is not declared"),
                    "name datasets of this universe as external",
                ));
            };
            self.external[d] = true;
        }
        Ok(())
    }

    /// Whether `id` is, or is inside, a dataset another program computes.
    pub fn is_external(&self, id: usize) -> bool {
        self.nodes
            .get(id)
            .and_then(|node| node.dataset)
            .is_some_and(|d| self.external.get(d).copied().unwrap_or(false))
    }

    /// `universe 'u' / dataset 'd' / asset 'a'`: how errors and `explain` name a concept.
    pub fn display_path(&self, id: usize) -> String {
        let Some(node) = self.nodes.get(id) else {
            return String::from("universe");
        };
        let kinds = [NodeKind::Universe, NodeKind::DataSet, NodeKind::Asset];
        node.names
            .iter()
            .zip(kinds)
            .map(|(name, kind)| format!("{} '{}'", kind.label(), name))
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// Concepts of `kind` at or below `id`, in declaration order.
    pub fn descendants(&self, id: usize, kind: NodeKind) -> Vec<usize> {
        let Some(root) = self.nodes.get(id) else {
            return Vec::new();
        };
        let depth = root.names.len();
        let mut found = Vec::new();
        // Declaration order is a pre-order walk, so a subtree is the contiguous run of
        // nodes after `id` that are deeper than it.
        for (offset, node) in self.nodes[id..].iter().enumerate() {
            if offset > 0 && node.names.len() <= depth {
                break;
            }
            if node.kind == kind {
                found.push(id + offset);
            }
        }
        found
    }

    /// The nearest concept of `kind` at or above `id`.
    pub fn ancestor(&self, id: usize, kind: NodeKind) -> Option<usize> {
        let mut current = Some(id);
        while let Some(index) = current {
            let node = self.nodes.get(index)?;
            if node.kind == kind {
                return Some(index);
            }
            current = node.parent;
        }
        None
    }

    pub fn dataset_of(&self, id: usize) -> Option<&DataSet> {
        let d = self.nodes.get(id)?.dataset?;
        self.universe.datasets.get(d)
    }

    pub fn asset_of(&self, id: usize) -> Option<&Asset> {
        let node = self.nodes.get(id)?;
        self.universe
            .datasets
            .get(node.dataset?)?
            .assets
            .get(node.asset?)
    }
}

pub fn asset_name(asset: &Asset) -> &str {
    match asset {
        Asset::StaticDataTable(table) => &table.name,
        Asset::SupervisedModel(model) => &model.name,
    }
}

/// How an asset comes to be: its setup.
pub fn asset_setup(asset: &Asset) -> &StorageSetup {
    match asset {
        Asset::StaticDataTable(table) => &table.setup,
        Asset::SupervisedModel(model) => &model.setup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn universe() -> ConceptTree {
        let text = r#"{"name": "u", "datasets": [
            {"name": "d1", "description": "", "assets": [], "datum_templates": [], "access_policies": [], "tag": null},
            {"name": "d2", "description": "", "assets": [], "datum_templates": [], "access_policies": [], "tag": null}],
          "endpoints": {"lake": {"path": "lake"}, "minio": null, "trino": null, "postgres": null, "spark": null, "aws": null},
          "users": [], "groups": [], "role_bindings": [], "compliance": null}"#;
        match ConceptTree::from_json(text) {
            Ok(tree) => tree,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn arena_is_preorder_with_paths() {
        let tree = universe();
        assert_eq!(tree.nodes.len(), 3);
        assert_eq!(tree.descendants(0, NodeKind::DataSet), vec![1, 2]);
        assert_eq!(tree.display_path(2), "universe 'u' / dataset 'd2'");
        assert_eq!(tree.ancestor(2, NodeKind::Universe), Some(0));
    }

    #[test]
    fn malformed_tree_is_a_declaration_error() {
        let error = ConceptTree::from_json("{}").err();
        assert_eq!(error.map(|e| e.kind), Some(ErrorKind::Declaration));
    }
}
