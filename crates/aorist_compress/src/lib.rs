#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! Compression: steps that call the same recipe with the same argument shape and the
//! same upstream groups become one group, run as a loop over a parameter table.
//! Arguments every row shares are hoisted out of the table. Task names are the shortest
//! unique suffix of their descriptive name (concept path + constraint).

mod naming;

pub use naming::{snake_case, task_names};

use std::collections::HashMap;

use aorist_concept::ConceptTree;
use aorist_recipe::{Arg, BoundPlan, Setting};
use serde::Serialize;
use serde_json::Value;

/// Steps run together: one call, or one loop over `rows`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Unique snake-case name, e.g. `downloaded` (then `downloaded_2`, ...).
    pub name: String,
    pub constraint: String,
    pub recipe: Option<usize>,
    /// Groups that must run first (smaller indices).
    pub deps: Vec<usize>,
    /// The task name of each row.
    pub tasks: Vec<String>,
    /// Arguments every row shares, in parameter order.
    pub hoisted: Vec<(String, Arg)>,
    /// Parameters that vary by row, in parameter order.
    pub columns: Vec<String>,
    /// One row per task: the values of `columns`.
    pub rows: Vec<Vec<Value>>,
    /// The bound steps in this group.
    pub steps: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompressedPlan {
    pub settings: Vec<Setting>,
    pub groups: Vec<Group>,
}

/// What makes two steps loop together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    constraint: String,
    recipe: Option<usize>,
    /// Per parameter: the setting it references, or `None` for a literal.
    shape: Vec<(String, Option<String>)>,
    deps: Vec<usize>,
}

pub fn compress(tree: &ConceptTree, plan: &BoundPlan) -> CompressedPlan {
    let names = task_names(tree, plan);
    let mut group_of: Vec<usize> = vec![0; plan.steps.len()];
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    let mut members: Vec<(GroupKey, Vec<usize>)> = Vec::new();
    // Bound steps are topologically ordered, so every dependency already has a group,
    // and groups are created in a topological order of the group graph.
    for (position, step) in plan.steps.iter().enumerate() {
        let mut deps: Vec<usize> = step.deps.iter().map(|&d| group_of[d]).collect();
        deps.sort_unstable();
        deps.dedup();
        let key = GroupKey {
            constraint: step.constraint.clone(),
            recipe: step.recipe,
            shape: step
                .args
                .iter()
                .map(|(name, arg)| {
                    let setting = match arg {
                        Arg::Setting(setting) => Some(setting.clone()),
                        Arg::Literal(_) => None,
                    };
                    (name.clone(), setting)
                })
                .collect(),
            deps,
        };
        let group = *index.entry(key.clone()).or_insert_with(|| {
            members.push((key, Vec::new()));
            members.len() - 1
        });
        members[group].1.push(position);
        group_of[position] = group;
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    let groups = members
        .into_iter()
        .map(|(key, steps)| {
            let base = snake_case(&key.constraint);
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            let name = if *count == 1 {
                base
            } else {
                format!("{base}_{count}")
            };
            let params: Vec<&String> = key.shape.iter().map(|(name, _)| name).collect();
            let mut hoisted = Vec::new();
            let mut columns = Vec::new();
            let mut varying = Vec::new();
            for (p, param) in params.iter().enumerate() {
                let first = &plan.steps[steps[0]].args[p].1;
                if steps.iter().all(|&s| &plan.steps[s].args[p].1 == first) {
                    hoisted.push(((*param).clone(), first.clone()));
                } else {
                    columns.push((*param).clone());
                    varying.push(p);
                }
            }
            let rows = steps
                .iter()
                .map(|&s| {
                    varying
                        .iter()
                        .map(|&p| match &plan.steps[s].args[p].1 {
                            Arg::Literal(value) => value.clone(),
                            // Settings are part of the key, so they never vary by row.
                            Arg::Setting(name) => Value::String(name.clone()),
                        })
                        .collect()
                })
                .collect();
            Group {
                name,
                constraint: key.constraint,
                recipe: key.recipe,
                deps: key.deps,
                tasks: steps.iter().map(|&s| names[s].clone()).collect(),
                hoisted,
                columns,
                rows,
                steps,
            }
        })
        .collect();
    CompressedPlan {
        settings: plan.settings.clone(),
        groups,
    }
}

#[cfg(test)]
mod tests;
