#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! The constraint catalog (`catalog.toml`) and its expansion into a DAG of constraint
//! instances: one instance per (constraint, concept), edges from requirements.
//!
//! Expansion is a worklist, not a recursion, so deep or wide universes cannot exhaust
//! the stack; the result is topologically ordered with deterministic tie-breaking.

mod catalog;

pub use catalog::{Catalog, Condition, ConstraintDecl, Mapping, Requirement};

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use aorist_concept::asset::Computation;
use aorist_concept::engine::EngineKind;
use aorist_concept::lake::{lake_asset, LakeAsset};
use aorist_concept::names::DerivedNames;
use aorist_concept::{ConceptTree, NodeKind};
use aorist_error::{AoristError, ErrorKind, Result};
use serde::Serialize;

/// One constraint attached to one concept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    pub id: usize,
    /// Shared by every instance of the constraint (a large plan has a million).
    pub constraint: Arc<str>,
    pub node: usize,
    /// Instances that must hold first (ids are smaller: the DAG is topologically ordered).
    pub deps: Vec<usize>,
}

/// The constraint instances a request expands to, dependencies first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintDag {
    pub instances: Vec<Instance>,
}

/// What attach conditions read of an asset's lake view (the view itself is rebuilt by
/// binding; keeping a million of them here would only cost memory).
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// `Some((compressed, has a header to remove, plain csv to keep as it is))` for a
    /// replicated asset.
    file: Option<(bool, bool, bool)>,
    computation: &'static str,
    /// The embedded lake serves the asset (no other engine).
    embedded: bool,
}

/// Evaluates attach conditions, caching each asset's shape (`None`: not replicated).
/// Each asset is resolved here once, so this is where the names its replication
/// derives are recorded, to be checked against each other once expansion is done.
struct Conditions<'a> {
    tree: &'a ConceptTree,
    shapes: HashMap<usize, Option<Shape>>,
    names: DerivedNames,
    /// Model files (lake-relative, case folded) and the model writing each.
    model_files: HashMap<String, usize>,
}

impl<'a> Conditions<'a> {
    fn shape(&mut self, node: usize) -> Result<Option<Shape>> {
        if let Some(shape) = self.shapes.get(&node) {
            return Ok(*shape);
        }
        let view: Option<LakeAsset> = lake_asset(self.tree, node)?;
        if let Some(view) = &view {
            self.names.add(self.tree, node, view);
            if let Computation::Train(model) = &view.resolved.computation {
                let folded = model.file.to_ascii_lowercase();
                if let Some(&other) = self.model_files.get(&folded) {
                    return Err(AoristError::new(
                        ErrorKind::DuplicateName,
                        self.tree.display_path(node),
                        format!(
                            "its model file {:?} is also the model file of {}, so each \
                             training would overwrite the other's model",
                            model.file,
                            self.tree.display_path(other)
                        ),
                        "give the models different names or target paths",
                    ));
                }
                self.model_files.insert(folded, node);
            }
        }
        let shape = view.map(|view| Shape {
            file: match &view.resolved.computation {
                // A header read for its column names is read by the conversion to
                // CSV, which then always runs.
                Computation::Replicate(file) => Some((
                    file.compression.is_some(),
                    file.header_lines > 0 && view.source_names().is_none(),
                    file.is_plain_csv() && view.source_names().is_none(),
                )),
                _ => None,
            },
            computation: view.resolved.computation.name(),
            embedded: view.engine == EngineKind::Lake,
        });
        self.shapes.insert(node, shape);
        Ok(shape)
    }

    /// The first condition of `decl` that fails on `node`, or `None` when it attaches.
    fn failing(&mut self, decl: &ConstraintDecl, node: usize) -> Result<Option<Condition>> {
        if self.tree.nodes.get(node).map(|n| n.kind) != Some(decl.attach) {
            return Ok(Some(Condition::Kind));
        }
        for condition in &decl.when {
            let holds = match (condition, self.shape(node)?) {
                (_, None) => false,
                (Condition::Kind | Condition::LakeTable, Some(_)) => true,
                (Condition::Replicated, Some(shape)) => shape.file.is_some(),
                (Condition::SourceCompressed, Some(shape)) => {
                    shape.file.is_some_and(|(compressed, _, _)| compressed)
                }
                (Condition::SourceHasHeader, Some(shape)) => {
                    shape.file.is_some_and(|(_, header, _)| header)
                }
                (Condition::SourceNotCsv, Some(shape)) => {
                    shape.file.is_some_and(|(_, _, csv)| !csv)
                }
                (Condition::EmbeddedLake, Some(shape)) => shape.embedded,
                (Condition::Derived, Some(shape)) => shape.file.is_none(),
                (Condition::Query, Some(shape)) => shape.computation == "query",
                (Condition::Function, Some(shape)) => shape.computation == "function",
                (Condition::Model, Some(shape)) => shape.computation == "train",
                (Condition::Predictions, Some(shape)) => shape.computation == "predict",
                (Condition::External, Some(_)) => self.tree.is_external(node),
            };
            if !holds {
                return Ok(Some(*condition));
            }
        }
        Ok(None)
    }
}

/// Expand the requested constraints over `tree` into a DAG of instances.
pub fn expand(
    tree: &ConceptTree,
    catalog: &Catalog,
    requested: &[String],
) -> Result<ConstraintDag> {
    let mut conditions = Conditions {
        tree,
        shapes: HashMap::new(),
        names: DerivedNames::for_tree(tree),
        model_files: HashMap::new(),
    };
    // One shared name per constraint: a large plan has a million instances.
    let names: Vec<Arc<str>> = catalog
        .constraints
        .iter()
        .map(|decl| Arc::from(decl.name.as_str()))
        .collect();
    let mut instances: Vec<Instance> = Vec::new();
    let mut index: HashMap<(usize, usize), usize> = HashMap::new();
    let mut worklist: VecDeque<usize> = VecDeque::new();
    let mut get_or_create = |decl: usize,
                             node: usize,
                             instances: &mut Vec<Instance>,
                             worklist: &mut VecDeque<usize>| {
        *index.entry((decl, node)).or_insert_with(|| {
            let id = instances.len();
            instances.push(Instance {
                id,
                constraint: names[decl].clone(),
                node,
                deps: Vec::new(),
            });
            worklist.push_back(id);
            id
        })
    };

    for name in requested {
        let decl_index = catalog.position(name).ok_or_else(|| {
            AoristError::new(
                ErrorKind::UnknownConstraint,
                format!("universe '{}'", tree.universe.name),
                format!("there is no constraint named {name:?}"),
                format!("request one of: {}", catalog.names().join(", ")),
            )
        })?;
        let decl = &catalog.constraints[decl_index];
        let mut attached = 0;
        // A program makes nothing of a dataset another program computes true: it only
        // reads its assets, reached as sources below.
        for node in (0..tree.nodes.len()).filter(|&n| !tree.is_external(n)) {
            if conditions.failing(decl, node)?.is_none() {
                get_or_create(decl_index, node, &mut instances, &mut worklist);
                attached += 1;
            }
        }
        if attached == 0 {
            return Err(AoristError::new(
                ErrorKind::UnsatisfiableConstraint,
                format!("universe '{}'", tree.universe.name),
                format!(
                    "{name} attaches only to {} {}{}, and this universe has none",
                    if decl.attach == NodeKind::Asset {
                        "an"
                    } else {
                        "a"
                    },
                    decl.attach.label(),
                    describe_conditions(decl)
                ),
                "request a constraint that applies to this universe, such as AllAssetsComputed",
            ));
        }
    }

    while let Some(id) = worklist.pop_front() {
        let (constraint, node) = (instances[id].constraint.clone(), instances[id].node);
        let decl = catalog.get(&constraint).ok_or_else(|| {
            AoristError::catalog(constraint.to_string(), "instance of an unknown constraint")
        })?;
        // The instance's dependencies so far, as a set: a dataset-level instance can
        // require every one of 100,000 assets, and a linear check per edge is quadratic.
        let mut has: HashSet<usize> = instances[id].deps.iter().copied().collect();
        for requirement in &decl.requires {
            let kind = catalog.attach_kind(requirement)?;
            let targets = match requirement.on {
                Mapping::SelfConcept => vec![node],
                Mapping::Descendants => tree
                    .descendants(node, kind)
                    .into_iter()
                    .filter(|&n| !tree.is_external(n))
                    .collect(),
                Mapping::Ancestor => tree.ancestor(node, kind).into_iter().collect(),
                Mapping::Sources => tree
                    .sources
                    .get(node)
                    .map(|sources| sources.iter().map(|(_, source)| *source).collect())
                    .unwrap_or_default(),
            };
            for target in targets {
                let mut chosen = None;
                let mut reasons = Vec::new();
                for option in &requirement.options {
                    let option_index = catalog.position(option).ok_or_else(|| {
                        AoristError::catalog(option.clone(), "required constraint is not declared")
                    })?;
                    match conditions.failing(&catalog.constraints[option_index], target)? {
                        None => {
                            chosen = Some(option_index);
                            break;
                        }
                        Some(condition) => reasons.push(format!(
                            "{option} needs a concept that {}",
                            condition.describe()
                        )),
                    }
                }
                let Some(option_index) = chosen else {
                    return Err(AoristError::new(
                        ErrorKind::UnsatisfiableConstraint,
                        tree.display_path(target),
                        format!(
                            "{constraint} on {} requires {} here, but {}",
                            tree.display_path(node),
                            requirement.options.join(" or "),
                            reasons.join("; ")
                        ),
                        "declare the asset with a setup aorist can compute (a \
                         RemoteStorageSetup or ReplicationStorageSetup into the lake, or \
                         ComputedFromLocalData)",
                    ));
                };
                let dep = get_or_create(option_index, target, &mut instances, &mut worklist);
                if has.insert(dep) {
                    instances[id].deps.push(dep);
                }
            }
        }
    }
    drop(index);
    // Every asset the plan touches is resolved by now.
    let Conditions {
        names: derived,
        shapes,
        model_files,
        ..
    } = conditions;
    drop(model_files);
    drop(shapes);
    derived.check(tree)?;
    topological(tree, catalog, instances)
}

fn describe_conditions(decl: &ConstraintDecl) -> String {
    if decl.when.is_empty() {
        String::new()
    } else {
        let described: Vec<&str> = decl.when.iter().map(|c| c.describe()).collect();
        format!(" that {}", described.join(" and "))
    }
}

/// Kahn's algorithm, ready instances taken in (concept, catalog) order; leftovers are a cycle.
fn topological(
    tree: &ConceptTree,
    catalog: &Catalog,
    instances: Vec<Instance>,
) -> Result<ConstraintDag> {
    let key = |i: &Instance| {
        (
            i.node,
            catalog.position(&i.constraint).unwrap_or(usize::MAX),
            i.id,
        )
    };
    let mut remaining: Vec<usize> = instances.iter().map(|i| i.deps.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); instances.len()];
    for instance in &instances {
        for &dep in &instance.deps {
            dependents[dep].push(instance.id);
        }
    }
    let mut ready: BTreeSet<(usize, usize, usize)> = instances
        .iter()
        .filter(|i| i.deps.is_empty())
        .map(key)
        .collect();
    let mut order = Vec::with_capacity(instances.len());
    while let Some(first) = ready.pop_first() {
        let id = first.2;
        order.push(id);
        for &dependent in &dependents[id] {
            remaining[dependent] -= 1;
            if remaining[dependent] == 0 {
                ready.insert(key(&instances[dependent]));
            }
        }
    }
    if order.len() < instances.len() {
        return Err(cycle_error(tree, &instances, &remaining));
    }
    drop(dependents);
    let mut renumber = vec![0; instances.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    drop(order);
    // Renumber in place and move each instance to its new position (no copies: a large
    // plan has a million instances).
    let mut slots: Vec<Option<Instance>> = Vec::new();
    slots.resize_with(instances.len(), || None);
    for mut instance in instances {
        let new = renumber[instance.id];
        instance.id = new;
        for dep in &mut instance.deps {
            *dep = renumber[*dep];
        }
        instance.deps.sort_unstable();
        instance.deps.shrink_to_fit();
        slots[new] = Some(instance);
    }
    let sorted: Vec<Instance> = slots.into_iter().flatten().collect();
    Ok(ConstraintDag { instances: sorted })
}

/// Walk dependencies among the instances left in the cycle until one repeats.
fn cycle_error(tree: &ConceptTree, instances: &[Instance], remaining: &[usize]) -> AoristError {
    let start = remaining.iter().position(|&r| r > 0).unwrap_or(0);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut walk = Vec::new();
    let mut current = start;
    while !seen.contains_key(&current) {
        seen.insert(current, walk.len());
        walk.push(current);
        match instances[current].deps.iter().find(|&&d| remaining[d] > 0) {
            Some(&next) => current = next,
            None => break,
        }
    }
    let from = seen.get(&current).copied().unwrap_or(0);
    let mut names: Vec<String> = walk[from..]
        .iter()
        .map(|&i| {
            format!(
                "{} on {}",
                instances[i].constraint,
                tree.display_path(instances[i].node)
            )
        })
        .collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    AoristError::new(
        ErrorKind::Cycle,
        tree.display_path(instances[start].node),
        format!(
            "constraint requirements form a cycle: {}",
            names.join(" requires ")
        ),
        "remove one of these requirements from the constraint catalog",
    )
}

impl ConstraintDag {
    /// One line per instance: `id constraint @ path <- deps`.
    pub fn to_text(&self, tree: &ConceptTree) -> String {
        let mut out = String::new();
        for instance in &self.instances {
            let deps: Vec<String> = instance.deps.iter().map(usize::to_string).collect();
            out.push_str(&format!(
                "{} {} @ {}{}\n",
                instance.id,
                instance.constraint,
                tree.display_path(instance.node),
                if deps.is_empty() {
                    String::new()
                } else {
                    format!(" <- {}", deps.join(", "))
                }
            ));
        }
        out
    }

    /// Graphviz DOT, edges from a requirement to what requires it.
    pub fn to_dot(&self, tree: &ConceptTree) -> String {
        let mut out = String::from("digraph constraints {\n  rankdir=LR;\n  node [shape=box];\n");
        for instance in &self.instances {
            let label = format!(
                "{}\\n{}",
                instance.constraint,
                tree.display_path(instance.node)
            );
            out.push_str(&format!(
                "  n{} [label=\"{}\"];\n",
                instance.id,
                label.replace('"', "\\\"")
            ));
        }
        for instance in &self.instances {
            for dep in &instance.deps {
                out.push_str(&format!("  n{dep} -> n{};\n", instance.id));
            }
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests;
