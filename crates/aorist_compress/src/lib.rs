#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! Compression: steps that call the same recipe with the same argument shape and the
//! same upstream groups become one group, run as a loop over a parameter table.
//! Arguments every row shares are hoisted out of the table. Task names are the shortest
//! unique suffix of their descriptive name (concept path + constraint).

pub mod naming;
mod template;

pub use naming::{snake_case, task_names};
pub use template::{Part, Templated};

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use aorist_concept::{Node, NodeKind, PythonFunction};
use aorist_recipe::{Arg, BoundPlan, Setting};
use serde::Serialize;
use serde_json::Value;

/// Steps run together: one call, or one loop over `rows`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Unique snake-case name, e.g. `downloaded` (then `downloaded_2`, ...).
    pub name: String,
    pub constraint: String,
    /// What the step makes true before `constraint` (a fused recipe), in plan order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<String>,
    #[serde(skip)]
    pub recipe: Option<usize>,
    pub recipe_id: Option<Arc<str>>,
    /// Groups that must run first (smaller indices).
    pub deps: Vec<usize>,
    /// The task name of each row.
    pub tasks: Vec<Arc<str>>,
    /// Per row: the task names it depends on (for orchestrators that wire tasks).
    pub upstream: Vec<Vec<Arc<str>>>,
    /// Per row: the table it publishes, if its constraint publishes one.
    pub publishes: Vec<Option<Arc<Value>>>,
    /// Every row's upstream task names, as one template over the row keys.
    pub upstream_template: Option<Templated>,
    /// Every row's published table, as one template over the row keys.
    pub outlet_template: Option<Templated>,
    /// How often an orchestrator retries this step.
    pub retries: u32,
    /// How long an orchestrator lets one run of this step take, in minutes.
    pub timeout_minutes: u32,
    /// Arguments every row shares (or builds from its keys), in parameter order.
    pub hoisted: Vec<(String, Hoisted)>,
    /// The task name as a template over the row keys, when every row's name is one.
    pub task_template: Option<Vec<Part>>,
    /// Concept names (`dataset`, `asset`) rows carry because templates use them.
    pub keys: Vec<String>,
    /// Parameters that vary by row in ways no template captures, in parameter order.
    pub columns: Vec<String>,
    /// One row per task: the values of `keys`, then of `columns`.
    pub rows: Vec<Vec<Arc<Value>>>,
    /// The bound steps in this group.
    pub steps: Vec<usize>,
    /// Per row: the asset (`dataset.asset`) its task works for, or `None` for a task of
    /// a dataset or of the universe. Orchestrators that group tasks by asset read it.
    #[serde(skip)]
    pub assets: Vec<Option<Arc<str>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompressedPlan {
    pub settings: Vec<Setting>,
    /// The user's functions the steps apply (defined once in the program).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<PythonFunction>,
    pub groups: Vec<Group>,
}

/// An argument the same for every row of a group, or built from each row's keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "hoisted", rename_all = "lowercase")]
pub enum Hoisted {
    Literal { value: Value },
    Setting { name: String },
    Template { template: Templated },
}

/// The concept names a step's row can be keyed by.
const KEYS: [(&str, usize); 2] = [("dataset", 1), ("asset", 2)];

/// What makes two steps loop together (borrowed from the plan: one per step).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey<'a> {
    constraint: &'a str,
    /// What a fused step makes true besides `constraint`.
    covers: &'a [Arc<str>],
    recipe: Option<usize>,
    /// Per parameter: the setting it references, or `None` for a literal. (Parameter
    /// names follow from the recipe.)
    shape: Vec<Option<&'a str>>,
    /// Longest dependency path from a source; only used when grouping without it would
    /// make a group depend on itself (chains of the same constraint).
    level: usize,
}

/// A group as first formed: its key, its steps, and the groups it depends on.
type Formed<'a> = (GroupKey<'a>, Vec<usize>, Vec<usize>);

/// Group steps by `key`; `None` when the groups would not form a DAG.
fn group_steps<'a>(
    plan: &'a BoundPlan,
    key: impl Fn(usize) -> GroupKey<'a>,
) -> Option<Vec<Formed<'a>>> {
    let mut index: HashMap<GroupKey<'a>, usize> = HashMap::new();
    let mut members: Vec<(GroupKey<'a>, Vec<usize>)> = Vec::new();
    let mut group_of = Vec::with_capacity(plan.steps.len());
    for position in 0..plan.steps.len() {
        let key = key(position);
        let group = *index.entry(key.clone()).or_insert_with(|| {
            members.push((key, Vec::new()));
            members.len() - 1
        });
        members[group].1.push(position);
        group_of.push(group);
    }
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); members.len()];
    for (position, step) in plan.steps.iter().enumerate() {
        for &dep in &step.deps {
            deps[group_of[position]].insert(group_of[dep]);
        }
    }
    // Kahn's algorithm over groups, ties broken by first appearance (deterministic).
    let mut remaining: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    for (group, group_deps) in deps.iter().enumerate() {
        for &dep in group_deps {
            dependents[dep].push(group);
        }
    }
    let mut ready: BTreeSet<usize> = (0..members.len()).filter(|&g| remaining[g] == 0).collect();
    let mut order = Vec::with_capacity(members.len());
    while let Some(group) = ready.pop_first() {
        order.push(group);
        for &dependent in &dependents[group] {
            remaining[dependent] -= 1;
            if remaining[dependent] == 0 {
                ready.insert(dependent);
            }
        }
    }
    if order.len() < members.len() {
        return None;
    }
    let mut renumber = vec![0; members.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    let mut members: Vec<Option<(GroupKey<'a>, Vec<usize>)>> =
        members.into_iter().map(Some).collect();
    Some(
        order
            .iter()
            .filter_map(|&old| {
                let (key, steps) = members[old].take()?;
                let group_deps = deps[old].iter().map(|&d| renumber[d]).collect();
                Some((key, steps, group_deps))
            })
            .collect(),
    )
}

/// Group `plan`'s steps; `nodes` are the concepts they attach to (their paths name tasks).
pub fn compress(nodes: &[Node], plan: &BoundPlan) -> CompressedPlan {
    // Shared by the group that runs a step and the groups that wait for it.
    let names: Vec<Arc<str>> = task_names(nodes, plan).into_iter().map(Arc::from).collect();
    // The asset each concept belongs to: one name per asset, shared by its steps.
    let owners: Vec<Option<Arc<str>>> = nodes
        .iter()
        .map(|node| match (node.kind, &node.names[..]) {
            (NodeKind::Asset, [_, dataset, asset, ..]) => {
                Some(Arc::from(format!("{dataset}.{asset}")))
            }
            _ => None,
        })
        .collect();
    // Row keys (dataset and asset names) recur in every group of an asset: one value each.
    let mut key_values: HashMap<&str, Arc<Value>> = HashMap::new();
    // Bound steps are topologically ordered, so levels are computed in one pass.
    let mut level = vec![0; plan.steps.len()];
    for (position, step) in plan.steps.iter().enumerate() {
        level[position] = step.deps.iter().map(|&d| level[d] + 1).max().unwrap_or(0);
    }
    let key = |with_level: bool| {
        let level = &level;
        move |position: usize| {
            let step = &plan.steps[position];
            GroupKey {
                constraint: &step.constraint,
                covers: &step.covers,
                recipe: step.recipe,
                shape: step
                    .args
                    .iter()
                    .map(|arg| match arg {
                        Arg::Setting(setting) => Some(setting.as_str()),
                        Arg::Literal(_) => None,
                    })
                    .collect(),
                level: if with_level { level[position] } else { 0 },
            }
        }
    };
    // Levels strictly increase along dependencies, so grouping with them is always a DAG.
    let members = group_steps(plan, key(false))
        .or_else(|| group_steps(plan, key(true)))
        .unwrap_or_default();

    let mut seen: HashMap<String, usize> = HashMap::new();
    let groups = members
        .into_iter()
        .map(|(key, steps, deps)| {
            let base = snake_case(plan.label(&plan.steps[steps[0]]));
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            let name = if *count == 1 {
                base
            } else {
                format!("{base}_{count}")
            };
            let params = plan.parameters(&plan.steps[steps[0]]);
            // Keys whose values differ between rows; longest value first so that
            // templating prefers `snap_graphs` over its prefix `snap`.
            let varying_keys: Vec<(&str, usize)> = KEYS
                .iter()
                .copied()
                .filter(|&(_, depth)| {
                    let value = |s: usize| {
                        nodes
                            .get(plan.steps[s].node)
                            .and_then(|n| n.names.get(depth))
                    };
                    steps.iter().all(|&s| value(s).is_some())
                        && steps.iter().any(|&s| value(s) != value(steps[0]))
                })
                .collect();
            let row_keys: Vec<Vec<(&str, &str)>> = steps
                .iter()
                .map(|&s| {
                    let names = nodes
                        .get(plan.steps[s].node)
                        .map_or(&[][..], |n| &n.names[..]);
                    let mut keys: Vec<(&str, &str)> = varying_keys
                        .iter()
                        .filter_map(|&(key, depth)| names.get(depth).map(|v| (key, v.as_str())))
                        .collect();
                    keys.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
                    keys
                })
                .collect();
            // A template that reproduces every row's value, if there is one.
            let template_of = |values: &[Arc<Value>]| -> Option<Templated> {
                if varying_keys.is_empty() {
                    return None;
                }
                let template = template::templatize(&values[0], &row_keys[0]);
                if matches!(template, Templated::Value { .. }) {
                    return None;
                }
                values
                    .iter()
                    .zip(&row_keys)
                    .all(|(value, keys)| template::render(&template, keys) == **value)
                    .then_some(template)
            };
            let mut hoisted = Vec::new();
            let mut columns = Vec::new();
            let mut varying = Vec::new();
            let mut used_keys = Vec::new();
            for (p, param) in params.iter().enumerate() {
                let first = &plan.steps[steps[0]].args[p];
                if steps.iter().all(|&s| &plan.steps[s].args[p] == first) {
                    let value = match first {
                        Arg::Literal(value) => Hoisted::Literal {
                            value: (**value).clone(),
                        },
                        Arg::Setting(name) => Hoisted::Setting {
                            name: name.to_string(),
                        },
                    };
                    hoisted.push((param.to_string(), value));
                    continue;
                }
                // Settings are part of the group key, so only literals vary by row.
                let values: Vec<Arc<Value>> = steps
                    .iter()
                    .map(|&s| match &plan.steps[s].args[p] {
                        Arg::Literal(value) => value.clone(),
                        Arg::Setting(name) => Arc::new(Value::String(name.to_string())),
                    })
                    .collect();
                match template_of(&values) {
                    Some(template) => {
                        template::keys_used(&template, &mut used_keys);
                        hoisted.push((param.to_string(), Hoisted::Template { template }));
                    }
                    None => {
                        columns.push(param.to_string());
                        varying.push(values);
                    }
                }
            }
            let task_values: Vec<Arc<Value>> = steps
                .iter()
                .map(|&s| Arc::new(Value::String(names[s].to_string())))
                .collect();
            let task_template = match template_of(&task_values) {
                Some(template) => {
                    template::keys_used(&template, &mut used_keys);
                    match template {
                        Templated::Text { parts } => Some(parts),
                        _ => None,
                    }
                }
                None => None,
            };
            // Orchestrators wire each task to its upstream tasks and declare what it
            // publishes; both are usually the same for every row up to its keys.
            let shared_or_template = |values: &[Arc<Value>], used: &mut Vec<String>| {
                if values.len() > 1 && values.iter().all(|v| v == &values[0]) {
                    return Some(Templated::Value {
                        value: (*values[0]).clone(),
                    });
                }
                let template = template_of(values)?;
                template::keys_used(&template, used);
                Some(template)
            };
            let upstream_values: Vec<Arc<Value>> = steps
                .iter()
                .map(|&s| {
                    let names = plan.steps[s]
                        .deps
                        .iter()
                        .map(|&d| Value::String(names[d].to_string()));
                    Arc::new(Value::Array(names.collect()))
                })
                .collect();
            let upstream_template = shared_or_template(&upstream_values, &mut used_keys);
            let publishes: Vec<Option<Arc<Value>>> = steps
                .iter()
                .map(|&s| plan.steps[s].publishes.clone())
                .collect();
            let outlet_template = if publishes.iter().all(Option::is_some) {
                let values: Vec<Arc<Value>> = publishes.iter().flatten().cloned().collect();
                shared_or_template(&values, &mut used_keys)
            } else {
                None
            };
            let keys: Vec<String> = KEYS
                .iter()
                .map(|(key, _)| key.to_string())
                .filter(|key| used_keys.contains(key))
                .collect();
            let rows = (0..steps.len())
                .map(|r| {
                    let mut row: Vec<Arc<Value>> = keys
                        .iter()
                        .map(|key| {
                            let value = row_keys[r]
                                .iter()
                                .find(|(name, _)| name == key)
                                .map_or("", |(_, value)| value);
                            key_values
                                .entry(value)
                                .or_insert_with(|| Arc::new(Value::String(value.to_string())))
                                .clone()
                        })
                        .collect();
                    row.extend(varying.iter().map(|values| values[r].clone()));
                    row
                })
                .collect();
            Group {
                name,
                recipe_id: plan.recipe_id(&plan.steps[steps[0]]).cloned(),
                constraint: key.constraint.to_string(),
                covers: key.covers.iter().map(|c| c.to_string()).collect(),
                recipe: key.recipe,
                deps,
                tasks: steps.iter().map(|&s| names[s].clone()).collect(),
                upstream: steps
                    .iter()
                    .map(|&s| {
                        plan.steps[s]
                            .deps
                            .iter()
                            .map(|&d| names[d].clone())
                            .collect()
                    })
                    .collect(),
                publishes,
                upstream_template,
                outlet_template,
                retries: plan.steps[steps[0]].retries,
                timeout_minutes: plan.steps[steps[0]].timeout_minutes,
                hoisted,
                task_template,
                keys,
                columns,
                rows,
                assets: steps
                    .iter()
                    .map(|&s| owners.get(plan.steps[s].node).cloned().flatten())
                    .collect(),
                steps,
            }
        })
        .collect();
    CompressedPlan {
        settings: plan.settings.clone(),
        functions: plan.functions.clone(),
        groups,
    }
}

#[cfg(test)]
mod tests;
