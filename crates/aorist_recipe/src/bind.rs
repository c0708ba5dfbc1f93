//! Binding: one recipe per constraint instance, parameters resolved to values.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use aorist_concept::lake::Replication;

use aorist_concept::lake::replication;
use aorist_concept::ConceptTree;
use aorist_constraint::{Catalog, ConstraintDag};
use aorist_error::{AoristError, ErrorKind, Result};
use serde::Serialize;
use serde_json::Value;

use crate::book::{Language, RecipeBook};
use crate::facts::{asset_facts, temporary_file};

/// The facts of one concept, shared by its steps.
type Facts = Rc<BTreeMap<&'static str, Arg>>;

/// A resolved parameter value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "arg", content = "value", rename_all = "lowercase")]
pub enum Arg {
    /// A value written into the program as an escaped literal (shared, not copied, by
    /// the steps of one concept).
    Literal(Arc<Value>),
    /// A reference to a program-level setting (e.g. `LAKE_PATH`).
    Setting(Arc<str>),
}

/// A program-level setting the user may override (a papermill parameter, say).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub name: String,
    pub value: Value,
    pub doc: String,
}

/// Recipe languages in order of preference: a default and per-constraint overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub default: Vec<Language>,
    pub per_constraint: BTreeMap<String, Vec<Language>>,
}

impl Preferences {
    pub fn for_constraint(&self, constraint: &str) -> &[Language] {
        self.per_constraint
            .get(constraint)
            .map_or(self.default.as_slice(), Vec::as_slice)
    }
}

/// One constraint instance with its recipe and arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoundStep {
    pub id: usize,
    pub constraint: Arc<str>,
    pub node: usize,
    /// Index into the recipe book; `None` for constraints that only gather others.
    #[serde(skip)]
    pub recipe: Option<usize>,
    /// The recipe's file under `recipes/` (what goldens and `explain` show).
    pub recipe_id: Option<Arc<str>>,
    /// Parameter names (shared with the recipe book) and values.
    pub args: Vec<(Arc<str>, Arg)>,
    pub deps: Vec<usize>,
    /// The table this step makes available to others (`publishes` in the catalog).
    pub publishes: Option<Arc<Value>>,
    /// How often an orchestrator retries the step (`retries` in the catalog).
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoundPlan {
    pub settings: Vec<Setting>,
    pub steps: Vec<BoundStep>,
}

/// Bind every instance of `dag` to a recipe in the preferred language.
pub fn bind(
    tree: &ConceptTree,
    catalog: &Catalog,
    dag: &ConstraintDag,
    book: &RecipeBook,
    preferences: &Preferences,
) -> Result<BoundPlan> {
    for constraint in preferences.per_constraint.keys() {
        if constraint != "*" && catalog.get(constraint).is_none() {
            return Err(AoristError::new(
                ErrorKind::UnknownConstraint,
                "preferences",
                format!("preferences name the unknown constraint {constraint:?}"),
                format!("use \"*\" or one of: {}", catalog.names().join(", ")),
            ));
        }
    }
    let mut outputs: Vec<Option<Arc<Value>>> = vec![None; dag.instances.len()];
    let mut views: HashMap<usize, Option<(Replication, Facts)>> = HashMap::new();
    let mut recipes_for: HashMap<Arc<str>, BTreeMap<Language, Vec<usize>>> = HashMap::new();
    let mut steps = Vec::with_capacity(dag.instances.len());
    for instance in &dag.instances {
        let decl = catalog.get(&instance.constraint).ok_or_else(|| {
            AoristError::catalog(instance.constraint.to_string(), "not in the catalog")
        })?;
        // Paths are for error messages only: formatting one per instance is costly.
        let path = || tree.display_path(instance.node);
        let mut step = BoundStep {
            id: instance.id,
            constraint: instance.constraint.clone(),
            node: instance.node,
            recipe: None,
            recipe_id: None,
            args: Vec::new(),
            deps: instance.deps.clone(),
            publishes: None,
            retries: decl.retries,
        };
        if !decl.recipe {
            steps.push(step);
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(entry) = views.entry(instance.node) {
            let view = replication(tree, instance.node)?;
            // Facts are computed once per concept and shared by its steps.
            entry.insert(view.map(|view| {
                let facts = asset_facts(&view);
                (view, Rc::new(facts))
            }));
        }
        let Some(Some((view, facts))) = views.get(&instance.node) else {
            return Err(AoristError::catalog(
                format!("{} / {}", path(), instance.constraint),
                "a recipe step attached to a concept without a lake view",
            ));
        };
        let applies = |index: &usize| {
            book.recipes[*index].when.iter().all(|(fact, allowed)| {
                matches!(facts.get(fact.as_str()), Some(Arg::Literal(value)) if allowed.contains(value))
            })
        };
        let available = recipes_for
            .entry(instance.constraint.clone())
            .or_insert_with(|| book.for_constraint(&instance.constraint));
        let tried = preferences.for_constraint(&instance.constraint);
        let chosen = tried.iter().find_map(|language| {
            available
                .get(language)
                .and_then(|indices| indices.iter().find(|i| applies(i)).copied())
        });
        let Some(recipe_index) = chosen else {
            let tried: Vec<&str> = tried.iter().map(|l| l.name()).collect();
            let written: Vec<&str> = available
                .iter()
                .filter(|(_, indices)| indices.iter().any(applies))
                .map(|(l, _)| l.name())
                .collect();
            return Err(AoristError::new(
                ErrorKind::NoRecipe,
                path(),
                format!(
                    "no recipe for {} in the allowed languages [{}]; recipes that apply here \
                     exist in [{}]",
                    instance.constraint,
                    tried.join(", "),
                    written.join(", ")
                ),
                if written.is_empty() {
                    "add a recipe file for this constraint under recipes/".to_string()
                } else {
                    format!("allow one of [{}] in preferences", written.join(", "))
                },
            ));
        };
        let recipe = &book.recipes[recipe_index];
        let output = decl.output.as_ref().map(|suffix| {
            let file = Arc::new(Value::String(temporary_file(view, suffix)));
            outputs[instance.id] = Some(file.clone());
            file
        });
        let input = instance.deps.iter().find_map(|&d| outputs[d].clone());
        for param in &recipe.parameters {
            let value = match param.from.as_str() {
                "output" => output.clone().map(Arg::Literal),
                "input" => input.clone().map(Arg::Literal),
                fact => facts.get(fact).cloned(),
            };
            let value = value.ok_or_else(|| {
                AoristError::catalog(
                    format!("recipes/{} / {}", recipe.id, param.name),
                    format!(
                        "parameter comes from the unknown fact {:?} (facts here: input, output, {})",
                        param.from,
                        facts.keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            step.args.push((param.name.clone(), value));
        }
        if let Some(fact) = &decl.publishes {
            match facts.get(fact.as_str()) {
                Some(Arg::Literal(value)) => step.publishes = Some(value.clone()),
                _ => {
                    return Err(AoristError::catalog(
                        format!("constraint catalog / {}", instance.constraint),
                        format!("publishes the unknown fact {fact:?}"),
                    ))
                }
            }
        }
        step.recipe = Some(recipe_index);
        step.recipe_id = Some(recipe.id.clone());
        steps.push(step);
    }
    let lake = &tree.universe.endpoints.lake.path;
    Ok(BoundPlan {
        settings: vec![Setting {
            name: "LAKE_PATH".to_string(),
            value: Value::String(lake.clone()),
            doc: "The embedded lake: table files and lake.duckdb live under this directory."
                .to_string(),
        }],
        steps,
    })
}
