//! Binding: one recipe per constraint instance, parameters resolved to values.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use aorist_concept::lake::lake_asset;
use aorist_concept::{asset_setup, ConceptTree, PythonFunction, StorageSetup};
use aorist_constraint::{Catalog, ConstraintDag};
use aorist_error::{AoristError, ErrorKind, Result};
use serde::Serialize;
use serde_json::Value;

use crate::book::{Language, RecipeBook};
use crate::facts::{asset_facts, engine_settings, Interner};

/// The facts of one concept, shared by its steps.
type Facts = Rc<BTreeMap<&'static str, Arg>>;

/// A resolved parameter value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "arg", content = "value", rename_all = "lowercase")]
pub enum Arg {
    /// A value written into the program as an escaped literal (shared, not copied, by
    /// the steps of one concept).
    Literal(Arc<Value>),
    /// A reference to a program-level setting (e.g. `LAKE_PATH`); a thin pointer keeps
    /// every argument of a million-step plan at 16 bytes.
    Setting(Arc<String>),
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
    /// Let one recipe make several constraints of a concept true when that is cheaper
    /// (a fused recipe, see `Recipe::covers`); `false` binds one recipe per constraint.
    pub fuse: bool,
}

impl Preferences {
    pub fn for_constraint(&self, constraint: &str) -> &[Language] {
        self.per_constraint
            .get(constraint)
            .map_or(self.default.as_slice(), Vec::as_slice)
    }
}

/// One constraint instance with its recipe and arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundStep {
    pub id: usize,
    pub constraint: Arc<str>,
    /// The constraints before `constraint` that the same call makes true (a fused
    /// recipe's), in plan order; empty for a step of one constraint.
    pub covers: Vec<Arc<str>>,
    pub node: usize,
    /// Index into the recipe book; `None` for constraints that only gather others.
    pub recipe: Option<usize>,
    /// One value per parameter of the recipe, in its order (`BoundPlan::parameters`
    /// names them: a plan holds a million steps, and the names once per recipe).
    pub args: Vec<Arg>,
    pub deps: Vec<usize>,
    /// The table this step makes available to others (`publishes` in the catalog), or
    /// reads from another program (`reads`).
    pub publishes: Option<Arc<Value>>,
    /// How often an orchestrator retries the step (`retries` in the catalog).
    pub retries: u32,
    /// How long an orchestrator lets one run take (`timeout_minutes` in the catalog).
    pub timeout_minutes: u32,
}

/// What a plan needs to know of a recipe: its file and its parameters' names.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeRef {
    /// The recipe's file under `recipes/` (what goldens and `explain` show).
    pub id: Arc<str>,
    /// What a step of several constraints is called: the recipe's `step`, or its entry.
    pub label: Arc<str>,
    pub parameters: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoundPlan {
    pub settings: Vec<Setting>,
    pub steps: Vec<BoundStep>,
    /// The user's Python functions the plan's steps apply, each once, by name.
    pub functions: Vec<PythonFunction>,
    /// Every recipe of the book, by the index steps refer to.
    pub recipes: Vec<RecipeRef>,
}

impl BoundPlan {
    /// The file of the recipe `step` runs, if it runs one.
    pub fn recipe_id(&self, step: &BoundStep) -> Option<&Arc<str>> {
        Some(&self.recipes.get(step.recipe?)?.id)
    }

    /// What names `step`'s task and group: its constraint, or for a fused step (one
    /// that makes several constraints true) its recipe's `step`, e.g. `source_loaded`.
    pub fn label<'a>(&'a self, step: &'a BoundStep) -> &'a str {
        match step.recipe.and_then(|r| self.recipes.get(r)) {
            Some(recipe) if !step.covers.is_empty() => &recipe.label,
            _ => &step.constraint,
        }
    }

    /// The names of `step`'s arguments, in order.
    pub fn parameters(&self, step: &BoundStep) -> &[Arc<str>] {
        step.recipe
            .and_then(|r| self.recipes.get(r))
            .map_or(&[], |r| &r.parameters[..])
    }
}

/// The plan as `aorist.stage(..., "bound")` shows it: each step with its recipe file and
/// named arguments.
impl Serialize for BoundPlan {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Step<'a> {
            id: usize,
            constraint: &'a str,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            covers: Vec<&'a str>,
            node: usize,
            recipe_id: Option<&'a str>,
            args: Vec<(&'a str, &'a Arg)>,
            deps: &'a [usize],
            publishes: &'a Option<Arc<Value>>,
            retries: u32,
            timeout_minutes: u32,
        }
        #[derive(Serialize)]
        struct Plan<'a> {
            settings: &'a [Setting],
            #[serde(skip_serializing_if = "Vec::is_empty")]
            functions: Vec<&'a str>,
            steps: Vec<Step<'a>>,
        }
        Plan {
            settings: &self.settings,
            functions: self.functions.iter().map(|f| f.name.as_str()).collect(),
            steps: self
                .steps
                .iter()
                .map(|step| Step {
                    id: step.id,
                    constraint: &step.constraint,
                    covers: step.covers.iter().map(|c| &**c).collect(),
                    node: step.node,
                    recipe_id: self.recipe_id(step).map(|id| &**id),
                    args: self
                        .parameters(step)
                        .iter()
                        .map(|name| &**name)
                        .zip(&step.args)
                        .collect(),
                    deps: &step.deps,
                    publishes: &step.publishes,
                    retries: step.retries,
                    timeout_minutes: step.timeout_minutes,
                })
                .collect(),
        }
        .serialize(serializer)
    }
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
    // Per concept: the prefix of its temporary files and its facts.
    let mut views: HashMap<usize, Option<(String, Facts)>> = HashMap::new();
    let mut interner = Interner::default();
    for instance in &dag.instances {
        let needs_recipe = catalog
            .get(&instance.constraint)
            .is_some_and(|decl| decl.recipe);
        if needs_recipe {
            if let std::collections::hash_map::Entry::Vacant(entry) = views.entry(instance.node) {
                let view = lake_asset(tree, instance.node)?;
                // Facts are computed once per concept and shared by its steps.
                entry.insert(view.map(|view| {
                    let facts = asset_facts(&view, &mut interner);
                    (view.temporary_prefix(), Rc::new(facts))
                }));
            }
        }
    }
    let mut recipes_for: HashMap<Arc<str>, BTreeMap<Language, Vec<usize>>> = HashMap::new();
    let fused = if preferences.fuse {
        fuse(dag, book, preferences, &views, &mut recipes_for)
    } else {
        Fused::none(dag)
    };
    let dag: &ConstraintDag = &fused.dag;
    let mut outputs: Vec<Option<Arc<Value>>> = vec![None; dag.instances.len()];
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
            covers: fused.covers[instance.id].clone(),
            node: instance.node,
            recipe: None,
            args: Vec::new(),
            deps: instance.deps.clone(),
            publishes: None,
            retries: decl.retries,
            timeout_minutes: decl.timeout_minutes,
        };
        if !decl.recipe {
            steps.push(step);
            continue;
        }
        let Some(Some((prefix, facts))) = views.get(&instance.node) else {
            return Err(AoristError::catalog(
                format!("{} / {}", path(), instance.constraint),
                "a recipe step attached to a concept without a lake view",
            ));
        };
        let tried = preferences.for_constraint(&instance.constraint);
        let chosen = fused.recipe[instance.id].or_else(|| {
            choose(book, &mut recipes_for, tried, &instance.constraint, facts).map(|(r, _)| r)
        });
        let Some(recipe_index) = chosen else {
            let available = &recipes_for[&instance.constraint];
            let tried: Vec<&str> = tried.iter().map(|l| l.name()).collect();
            let written: Vec<&str> = available
                .iter()
                .filter(|(_, indices)| indices.iter().any(|&i| applies(&book.recipes[i], facts)))
                .map(|(l, _)| l.name())
                .collect();
            return Err(AoristError::new(
                ErrorKind::NoRecipe,
                path(),
                format!(
                    "no recipe for {} on the {} engine in the allowed languages [{}]; \
                     recipes that apply here exist in [{}]",
                    instance.constraint,
                    match facts.get("engine") {
                        Some(Arg::Literal(engine)) => engine.as_str().unwrap_or("lake"),
                        _ => "lake",
                    },
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
            let file = Arc::new(Value::String(format!("{prefix}{suffix}")));
            outputs[instance.id] = Some(file.clone());
            file
        });
        let input = instance.deps.iter().find_map(|&d| outputs[d].clone());
        for param in &recipe.parameters {
            let value = match param.from.as_str() {
                "output" => output.clone().map(Arg::Literal),
                "input" => input.clone().map(Arg::Literal),
                "temporaries" => Some(Arg::Literal(Arc::new(temporaries(
                    catalog,
                    dag,
                    &outputs,
                    instance.id,
                )))),
                fact => facts.get(fact).cloned(),
            };
            let value = value.ok_or_else(|| {
                AoristError::catalog(
                    format!("recipes/{} / {}", recipe.id, param.name),
                    format!(
                        "parameter comes from the unknown fact {:?} (facts here: input, output, \
                         temporaries, {})",
                        param.from,
                        facts.keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            step.args.push(value);
        }
        // A step that reads another program's table names it as one that publishes does.
        if let Some(fact) = decl.publishes.as_ref().or(decl.reads.as_ref()) {
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
        steps.push(step);
    }
    let functions = user_functions(tree, dag)?;
    let lake = &tree.universe.endpoints.lake.path;
    // The engines' settings the steps refer to, after the lake's.
    let used: std::collections::HashSet<&str> = steps
        .iter()
        .flat_map(|step| &step.args)
        .filter_map(|arg| match arg {
            Arg::Setting(name) => Some(name.as_str()),
            Arg::Literal(_) => None,
        })
        .collect();
    let lake_used = views.values().flatten().any(|(_, facts)| {
        matches!(facts.get("engine"), Some(Arg::Literal(engine)) if engine.as_str() == Some("lake"))
    });
    let mut settings = vec![Setting {
        name: "LAKE_PATH".to_string(),
        value: Value::String(lake.clone()),
        doc: if lake_used || used.len() <= 1 {
            "The embedded lake: table files and lake.duckdb live under this directory."
        } else {
            "The run's directory on this machine: its lock, and model files unless an \
             object store holds them; tables live in the engine configured below."
        }
        .to_string(),
    }];
    settings.extend(
        engine_settings(&tree.universe.endpoints, &tree.universe.name)
            .into_iter()
            .filter(|setting| used.contains(setting.name.as_str())),
    );
    Ok(BoundPlan {
        settings,
        steps,
        functions,
        recipes: book
            .recipes
            .iter()
            .map(|recipe| RecipeRef {
                id: recipe.id.clone(),
                label: Arc::from(recipe.step.as_deref().unwrap_or(&recipe.entry)),
                parameters: recipe.parameters.iter().map(|p| p.name.clone()).collect(),
            })
            .collect(),
    })
}

/// Whether `recipe` applies to a concept with `facts` (its `when` holds).
fn applies(recipe: &crate::book::Recipe, facts: &BTreeMap<&'static str, Arg>) -> bool {
    recipe.when.iter().all(|(fact, allowed)| {
        matches!(facts.get(fact.as_str()), Some(Arg::Literal(value)) if allowed.contains(value))
    })
}

/// The recipe of `constraint` alone that applies to `facts` in the first language of
/// `tried` that has one, with that language's rank in `tried`.
fn choose(
    book: &RecipeBook,
    recipes_for: &mut HashMap<Arc<str>, BTreeMap<Language, Vec<usize>>>,
    tried: &[Language],
    constraint: &Arc<str>,
    facts: &BTreeMap<&'static str, Arg>,
) -> Option<(usize, usize)> {
    let available = recipes_for
        .entry(constraint.clone())
        .or_insert_with(|| book.for_constraint(constraint));
    tried.iter().enumerate().find_map(|(rank, language)| {
        available.get(language).and_then(|indices| {
            indices
                .iter()
                .find(|&&i| applies(&book.recipes[i], facts))
                .map(|&i| (i, rank))
        })
    })
}

/// The constraint DAG as steps: a fused recipe's instances become one instance (the
/// last, its head), the others are renumbered, dependencies on an absorbed instance
/// become dependencies on its head.
struct Fused<'a> {
    /// Borrowed when nothing is fused: a plan of a million instances is not copied.
    dag: std::borrow::Cow<'a, ConstraintDag>,
    /// Per instance: the constraints its step makes true before its own.
    covers: Vec<Vec<Arc<str>>>,
    /// Per instance: the fused recipe chosen for it.
    recipe: Vec<Option<usize>>,
}

impl<'a> Fused<'a> {
    fn none(dag: &'a ConstraintDag) -> Fused<'a> {
        Fused {
            dag: std::borrow::Cow::Borrowed(dag),
            covers: vec![Vec::new(); dag.instances.len()],
            recipe: vec![None; dag.instances.len()],
        }
    }
}

/// A fused recipe that may replace the separate steps of `members` and `head`.
struct Candidate {
    head: usize,
    recipe: usize,
    members: std::collections::BTreeSet<usize>,
    saving: u64,
}

/// The cheapest cover of each concept's instances by recipes: a fused recipe replaces
/// the separate steps of the instances it covers when it costs less than they do, is
/// written in a language allowed for each of them and ranked no lower than the language
/// each would be bound in alone, and no other step has to run between them.
fn fuse<'a>(
    dag: &'a ConstraintDag,
    book: &RecipeBook,
    preferences: &Preferences,
    views: &HashMap<usize, Option<(String, Facts)>>,
    recipes_for: &mut HashMap<Arc<str>, BTreeMap<Language, Vec<usize>>>,
) -> Fused<'a> {
    let count = dag.instances.len();
    let mut fused_for: HashMap<Arc<str>, Vec<usize>> = HashMap::new();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
    for instance in &dag.instances {
        for &dep in &instance.deps {
            dependents[dep].push(instance.id);
        }
    }
    let mut by_node: BTreeMap<usize, Vec<Candidate>> = BTreeMap::new();
    for instance in &dag.instances {
        let recipes = fused_for
            .entry(instance.constraint.clone())
            .or_insert_with(|| book.fused_for(&instance.constraint));
        if recipes.is_empty() {
            continue;
        }
        let Some(Some((_, facts))) = views.get(&instance.node) else {
            continue;
        };
        for &index in recipes.iter() {
            let recipe = &book.recipes[index];
            if !applies(recipe, facts) {
                continue;
            }
            let mut members = std::collections::BTreeSet::new();
            let mut pending = instance.deps.clone();
            while let Some(dep) = pending.pop() {
                let member = &dag.instances[dep];
                if member.node == instance.node
                    && recipe.covers.iter().any(|c| **c == *member.constraint)
                    && members.insert(dep)
                {
                    pending.extend(&member.deps);
                }
            }
            if members.is_empty() {
                continue;
            }
            // Nothing outside may need a member before the head has run.
            let closed = members.iter().all(|&m| {
                dependents[m]
                    .iter()
                    .all(|&x| x == instance.id || members.contains(&x) || x > instance.id)
            });
            let mut separate: u64 = 0;
            let mut allowed = closed;
            for &id in members.iter().chain([&instance.id]) {
                if !allowed {
                    break;
                }
                let constraint = &dag.instances[id].constraint;
                let tried = preferences.for_constraint(constraint);
                let Some(rank) = tried.iter().position(|l| *l == recipe.language) else {
                    allowed = false;
                    break;
                };
                match choose(book, recipes_for, tried, constraint, facts) {
                    Some((alone, alone_rank)) => {
                        allowed = rank <= alone_rank;
                        separate += u64::from(book.recipes[alone].cost);
                    }
                    // Only the fused recipe can make it true here.
                    None => separate += u64::from(u32::MAX),
                }
            }
            let cost = u64::from(recipe.cost);
            if allowed && separate > cost {
                by_node.entry(instance.node).or_default().push(Candidate {
                    head: instance.id,
                    recipe: index,
                    members,
                    saving: separate - cost,
                });
            }
        }
    }
    // Per concept, the disjoint candidates saving most (exhaustively: a concept has a
    // handful; greedily past a dozen).
    let mut owner: Vec<usize> = (0..count).collect();
    let mut recipe_of: HashMap<usize, usize> = HashMap::new();
    for candidates in by_node.values() {
        let overlap = |a: &Candidate, b: &Candidate| {
            a.head == b.head
                || a.members.contains(&b.head)
                || b.members.contains(&a.head)
                || a.members.iter().any(|m| b.members.contains(m))
        };
        let mut best: Vec<usize> = Vec::new();
        if candidates.len() <= 12 {
            let mut best_saving = 0;
            for mask in 1u32..(1 << candidates.len()) {
                let picked: Vec<usize> = (0..candidates.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .collect();
                let disjoint = picked.iter().enumerate().all(|(n, &a)| {
                    picked[n + 1..]
                        .iter()
                        .all(|&b| !overlap(&candidates[a], &candidates[b]))
                });
                let saving: u64 = picked.iter().map(|&i| candidates[i].saving).sum();
                if disjoint && saving > best_saving {
                    best_saving = saving;
                    best = picked;
                }
            }
        } else {
            let mut order: Vec<usize> = (0..candidates.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(candidates[i].saving));
            for i in order {
                if best
                    .iter()
                    .all(|&b| !overlap(&candidates[i], &candidates[b]))
                {
                    best.push(i);
                }
            }
        }
        for i in best {
            let candidate = &candidates[i];
            for &member in &candidate.members {
                owner[member] = candidate.head;
            }
            recipe_of.insert(candidate.head, candidate.recipe);
        }
    }
    if recipe_of.is_empty() {
        return Fused::none(dag);
    }
    let mut new_id = vec![usize::MAX; count];
    let mut next = 0;
    let mut members_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for (id, &runner) in owner.iter().enumerate() {
        if runner == id {
            new_id[id] = next;
            next += 1;
        } else {
            members_of.entry(runner).or_default().push(id);
        }
    }
    let mut instances = Vec::with_capacity(next);
    let mut covers = Vec::with_capacity(next);
    let mut recipe = Vec::with_capacity(next);
    for old in &dag.instances {
        if owner[old.id] != old.id {
            continue;
        }
        let id = new_id[old.id];
        let members = members_of.get(&old.id).map_or(&[][..], Vec::as_slice);
        let mut deps: Vec<usize> = Vec::new();
        for &dep in old
            .deps
            .iter()
            .chain(members.iter().flat_map(|&m| &dag.instances[m].deps))
        {
            let mapped = new_id[owner[dep]];
            if mapped != id && !deps.contains(&mapped) {
                deps.push(mapped);
            }
        }
        instances.push(aorist_constraint::Instance {
            id,
            constraint: old.constraint.clone(),
            node: old.node,
            deps,
        });
        covers.push(
            members
                .iter()
                .map(|&m| dag.instances[m].constraint.clone())
                .collect(),
        );
        recipe.push(recipe_of.get(&old.id).copied());
    }
    Fused {
        dag: std::borrow::Cow::Owned(ConstraintDag { instances }),
        covers,
        recipe,
    }
}

/// The temporary files written by the steps `id` depends on, directly or not, on its
/// own concept, in plan order; the download is not one of them: it is kept on purpose,
/// as the cache a rerun rebuilds the other copies from without fetching the source.
/// A derived asset's steps write none.
fn temporaries(
    catalog: &Catalog,
    dag: &ConstraintDag,
    outputs: &[Option<Arc<Value>>],
    id: usize,
) -> Value {
    let node = dag.instances[id].node;
    // Instance ids are plan positions, so the set iterates in plan order.
    let mut reached = std::collections::BTreeSet::new();
    let mut pending = dag.instances[id].deps.clone();
    while let Some(dep) = pending.pop() {
        let instance = &dag.instances[dep];
        if instance.node == node && reached.insert(dep) {
            pending.extend(&instance.deps);
        }
    }
    Value::Array(
        reached
            .into_iter()
            .filter(|&dep| {
                catalog
                    .get(&dag.instances[dep].constraint)
                    .is_some_and(|decl| decl.output.as_deref() != Some("download"))
            })
            .filter_map(|dep| outputs[dep].as_deref().cloned())
            .collect(),
    )
}

/// The Python functions of the function assets `dag` computes, each once: two assets
/// may share a function, but two different functions may not share a name (the
/// generated program defines each by its name).
fn user_functions(tree: &ConceptTree, dag: &ConstraintDag) -> Result<Vec<PythonFunction>> {
    let mut found: BTreeMap<String, (PythonFunction, usize)> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for instance in &dag.instances {
        if !seen.insert(instance.node) {
            continue;
        }
        let Some(StorageSetup::ComputedFromLocalData(setup)) =
            tree.asset_of(instance.node).map(asset_setup)
        else {
            continue;
        };
        let Some(function) = &setup.function else {
            continue;
        };
        match found.get(&function.name) {
            Some((other, node)) if other.source != function.source => {
                return Err(AoristError::new(
                    ErrorKind::DuplicateName,
                    tree.display_path(instance.node),
                    format!(
                        "its function {:?} differs from the function of the same name that \
                         {} is computed by, and the generated program defines functions by \
                         name",
                        function.name,
                        tree.display_path(*node)
                    ),
                    "rename one of the two functions",
                ));
            }
            Some(_) => {}
            None => {
                found.insert(function.name.clone(), (function.clone(), instance.node));
            }
        }
    }
    Ok(found.into_values().map(|(f, _)| f).collect())
}
