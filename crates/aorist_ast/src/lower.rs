//! Lowering: compressed plan -> AST.

use std::collections::BTreeSet;

use aorist_compress::{CompressedPlan, Hoisted, Part, Templated};
use aorist_constraint::Catalog;
use aorist_error::{AoristError, ErrorKind, Result};
use aorist_recipe::{Language, Recipe, RecipeBook};
use serde_json::Value;

use crate::{Definition, Expr, FormatPart, Keyword, Module, SettingDef, Step, Stmt, Table};

pub fn value_expr(value: &Value) -> Expr {
    match value {
        Value::Null => Expr::None,
        Value::Bool(b) => Expr::Bool { value: *b },
        Value::Number(n) => match n.as_i64() {
            Some(i) => Expr::Int { value: i },
            None => Expr::Float {
                value: n.as_f64().unwrap_or(f64::NAN),
            },
        },
        Value::String(s) => Expr::Str { value: s.clone() },
        Value::Array(items) => Expr::List {
            items: items.iter().map(value_expr).collect(),
        },
        // An engine's settings: `dict(key=value, ...)` (a named list in R); their keys
        // are identifiers aorist chooses.
        Value::Object(map) => Expr::Call {
            func: "dict".to_string(),
            args: Vec::new(),
            kwargs: map
                .iter()
                .map(|(k, v)| Keyword {
                    name: k.clone(),
                    value: value_expr(v),
                })
                .collect(),
        },
    }
}

fn format_expr(parts: &[Part]) -> Expr {
    Expr::Format {
        parts: parts
            .iter()
            .map(|part| match part {
                Part::Text { value } => FormatPart::Text {
                    value: value.clone(),
                },
                Part::Key { name } => FormatPart::Field { name: name.clone() },
            })
            .collect(),
    }
}

fn templated_expr(template: &Templated) -> Expr {
    match template {
        Templated::Value { value } => value_expr(value),
        Templated::Text { parts } => format_expr(parts),
        Templated::List { items } => Expr::List {
            items: items.iter().map(templated_expr).collect(),
        },
    }
}

/// A published table (`["schema", "name"]`, parts possibly templated) as `schema.name`.
fn dotted_format(template: &Templated) -> Expr {
    let mut parts = Vec::new();
    let items = match template {
        Templated::List { items } => items.clone(),
        other => vec![other.clone()],
    };
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            parts.push(FormatPart::Text { value: ".".into() });
        }
        match item {
            Templated::Value { value } => parts.push(FormatPart::Text {
                value: value.as_str().unwrap_or_default().to_string(),
            }),
            Templated::Text { parts: text } => {
                if let Expr::Format { parts: more } = format_expr(text) {
                    parts.extend(more);
                }
            }
            Templated::List { .. } => {}
        }
    }
    Expr::Format { parts }
}

fn hoisted_expr(hoisted: &Hoisted) -> Expr {
    match hoisted {
        Hoisted::Literal { value } => value_expr(value),
        Hoisted::Setting { name } => Expr::Name { id: name.clone() },
        Hoisted::Template { template } => templated_expr(template),
    }
}

/// The name of the constant holding a non-host recipe's code, e.g. `SQL_CREATE_TEMPORARY_TABLE`.
/// Where `define_helpers` adds what it includes.
struct Included<'a> {
    imports: &'a mut BTreeSet<String>,
    libraries: &'a mut BTreeSet<String>,
    definitions: &'a mut Vec<Definition>,
    defined: &'a mut BTreeSet<String>,
}

/// Define the helpers `uses` needs (and those they use), each once per program.
fn define_helpers(
    book: &RecipeBook,
    host: Language,
    uses: &[String],
    program: bool,
    to: &mut Included,
) {
    for helper in book.helpers_for(host, uses) {
        if !to.defined.insert(helper.name.clone()) {
            continue;
        }
        to.imports.extend(helper.imports.iter().cloned());
        to.libraries.extend(helper.libraries.iter().cloned());
        to.definitions.push(Definition::Function {
            name: helper.name.clone(),
            language: host,
            source: helper.body.clone(),
            imports: helper.imports.clone(),
            origin: format!("recipes/{}", helper.id),
            program: program && helper.program,
        });
    }
}

fn code_constant(recipe: &Recipe) -> String {
    format!("{}_{}", recipe.language.name(), recipe.entry).to_uppercase()
}

/// SQL placeholders `{name}` become `{name:role}` so the runtime quotes each by its role.
fn annotate_sql(recipe: &Recipe) -> String {
    let mut body = recipe.body.clone();
    for param in &recipe.parameters {
        if let Some(role) = &param.sql {
            body = body.replace(
                &format!("{{{}}}", param.name),
                &format!("{{{}:{}}}", param.name, role),
            );
        }
    }
    body
}

pub fn lower(
    plan: &CompressedPlan,
    catalog: &Catalog,
    book: &RecipeBook,
    host: Language,
    name: &str,
    constraints: &[String],
) -> Result<Module> {
    let mut imports: BTreeSet<String> = BTreeSet::new();
    let mut libraries: BTreeSet<String> = BTreeSet::new();
    let mut definitions: Vec<Definition> = Vec::new();
    let mut defined: BTreeSet<String> = BTreeSet::new();
    let mut steps = Vec::with_capacity(plan.groups.len());

    // Helpers every program of the host language carries (its runner), first.
    let program: Vec<String> = book
        .helpers
        .iter()
        .filter(|h| h.program && h.language == host)
        .map(|h| h.name.clone())
        .collect();
    define_helpers(
        book,
        host,
        &program,
        true,
        &mut Included {
            imports: &mut imports,
            libraries: &mut libraries,
            definitions: &mut definitions,
            defined: &mut defined,
        },
    );

    // The user's functions, under their own names, which nothing else may take.
    if host == Language::Python {
        let reserved = reserved_names(book, host);
        for function in &plan.functions {
            if reserved.contains(&function.name) || defined.contains(&function.name) {
                return Err(AoristError::new(
                    ErrorKind::Declaration,
                    format!(
                        "function {:?} (module {:?})",
                        function.name, function.module
                    ),
                    "the generated program defines a function or imports a module of this \
                     name itself",
                    "rename the function",
                ));
            }
            defined.insert(function.name.clone());
            imports.extend(function.imports.iter().cloned());
            definitions.push(Definition::Function {
                name: function.name.clone(),
                language: host,
                source: function.source.clone(),
                imports: function.imports.clone(),
                origin: if function.module.is_empty() {
                    "the universe's declaration".to_string()
                } else {
                    format!("{}.{}", function.module, function.name)
                },
                program: false,
            });
        }
    }

    for group in &plan.groups {
        let doc_of = |constraint: &str| {
            catalog
                .get(constraint)
                .map(|c| c.doc.clone())
                .unwrap_or_default()
        };
        // A fused step says what each constraint it makes true means, in order.
        let doc = if group.covers.is_empty() {
            doc_of(&group.constraint)
        } else {
            let mut doc = "One call makes these true, in order.".to_string();
            for constraint in group.covers.iter().chain([&group.constraint]) {
                doc.push_str(&format!(" {constraint}: {}", doc_of(constraint)));
            }
            doc
        };
        let deps = group
            .deps
            .iter()
            .map(|&d| plan.groups[d].name.clone())
            .collect();
        let looped = group.tasks.len() > 1;
        let task_template = group.task_template.as_deref().map(format_expr);
        let task_expr = if looped {
            task_template.clone().unwrap_or(Expr::Name {
                id: "task".to_string(),
            })
        } else {
            Expr::Str {
                value: group
                    .tasks
                    .first()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            }
        };
        let mut body = vec![Stmt::Progress { task: task_expr }];
        let mut language = None;
        let mut recipe_id = None;
        if let Some(index) = group.recipe {
            let recipe = book.recipes.get(index).ok_or_else(|| {
                AoristError::catalog(group.name.clone(), "recipe index out of range")
            })?;
            language = Some(recipe.language);
            recipe_id = Some(recipe.id.to_string());
            let argument = |param: &str| -> Expr {
                match group.hoisted.iter().find(|(name, _)| name == param) {
                    Some((_, hoisted)) => hoisted_expr(hoisted),
                    None => Expr::Name {
                        id: param.to_string(),
                    },
                }
            };
            // The recipe's parameters as named arguments, in header order.
            let keywords = || -> Vec<Keyword> {
                recipe
                    .parameters
                    .iter()
                    .map(|p| Keyword {
                        name: p.name.to_string(),
                        value: argument(&p.name),
                    })
                    .collect()
            };
            libraries.extend(recipe.libraries.iter().cloned());
            // A recipe of another language runs through the host's runtime for it.
            let runtime = if recipe.language == host {
                None
            } else {
                Some(book.runtime(host, recipe.language).ok_or_else(|| {
                    AoristError::new(
                        ErrorKind::NoRecipe,
                        group.name.clone(),
                        format!(
                            "the {} recipe for {} cannot run in a {} program",
                            recipe.language, group.constraint, host
                        ),
                        format!("prefer {host} recipes for this dialect"),
                    )
                })?)
            };
            if let Some(runtime) = runtime {
                libraries.extend(runtime.libraries.iter().cloned());
            }
            define_helpers(
                book,
                host,
                runtime.map_or(&recipe.uses, |runtime| &runtime.uses),
                false,
                &mut Included {
                    imports: &mut imports,
                    libraries: &mut libraries,
                    definitions: &mut definitions,
                    defined: &mut defined,
                },
            );
            // The host function the step calls: the runtime, or the recipe itself.
            let (name, source, function_imports, origin) = match runtime {
                Some(runtime) => (
                    &runtime.name,
                    &runtime.body,
                    &runtime.imports,
                    format!("recipes/{}", runtime.id),
                ),
                None => (
                    &recipe.entry,
                    &recipe.body,
                    &recipe.imports,
                    format!("recipes/{}", recipe.id),
                ),
            };
            if defined.insert(name.clone()) {
                imports.extend(function_imports.iter().cloned());
                definitions.push(Definition::Function {
                    name: name.clone(),
                    language: host,
                    source: source.clone(),
                    imports: function_imports.clone(),
                    origin,
                    program: false,
                });
            }
            let call = if let Some(runtime) = runtime {
                let constant = code_constant(recipe);
                if defined.insert(constant.clone()) {
                    let code = match recipe.language {
                        Language::Sql => annotate_sql(recipe),
                        // The script carries the helpers it calls, defined before it,
                        // and, if it applies the user's functions, those too.
                        language => {
                            let mut parts: Vec<String> = Vec::new();
                            let applies =
                                recipe.parameters.iter().any(|p| p.from == "function.name");
                            let functions: &[_] = if language == Language::Python && applies {
                                &plan.functions
                            } else {
                                &[]
                            };
                            let helpers = book.helpers_for(language, &recipe.uses);
                            if language == Language::Python {
                                let mut lines: BTreeSet<&String> = BTreeSet::new();
                                lines.extend(functions.iter().flat_map(|f| &f.imports));
                                lines.extend(&recipe.imports);
                                lines.extend(helpers.iter().flat_map(|h| &h.imports));
                                parts.extend(lines.into_iter().cloned());
                            }
                            parts.extend(functions.iter().map(|f| f.source.clone()));
                            parts.extend(helpers.iter().map(|h| h.body.clone()));
                            parts.push(recipe.body.clone());
                            parts.join("\n")
                        }
                    };
                    definitions.push(Definition::Constant {
                        name: constant.clone(),
                        value: Expr::Str { value: code },
                        doc: recipe.summary.clone(),
                        origin: format!("recipes/{}", recipe.id),
                    });
                }
                match recipe.language {
                    Language::Sql => Expr::Call {
                        func: runtime.name.clone(),
                        args: vec![
                            Expr::Name {
                                id: "LAKE_PATH".to_string(),
                            },
                            Expr::Name { id: constant },
                        ],
                        kwargs: keywords(),
                    },
                    // R recipes take named arguments (run through Rscript from Python),
                    // and so do Python recipes run from R.
                    Language::R | Language::Python => Expr::Call {
                        func: runtime.name.clone(),
                        args: vec![
                            Expr::Name { id: constant },
                            Expr::Str {
                                value: recipe.entry.clone(),
                            },
                        ],
                        kwargs: keywords(),
                    },
                    _ => {
                        let mut args = vec![
                            Expr::Name { id: constant },
                            Expr::Str {
                                value: recipe.entry.clone(),
                            },
                        ];
                        args.extend(recipe.parameters.iter().map(|p| argument(&p.name)));
                        Expr::Call {
                            func: runtime.name.clone(),
                            args,
                            kwargs: Vec::new(),
                        }
                    }
                }
            } else {
                Expr::Call {
                    func: recipe.entry.clone(),
                    args: Vec::new(),
                    kwargs: keywords(),
                }
            };
            body.push(Stmt::Expr { value: call });
        }
        let table = if looped {
            let named = task_template.is_none();
            let rows = group
                .tasks
                .iter()
                .zip(&group.rows)
                .map(|(task, row)| {
                    let mut items = Vec::with_capacity(row.len() + 1);
                    if named {
                        items.push(Expr::Str {
                            value: task.to_string(),
                        });
                    }
                    items.extend(row.iter().map(|value| value_expr(value)));
                    // A table of one column holds values, not 1-tuples.
                    match items.len() {
                        1 => items.remove(0),
                        _ => Expr::Tuple { items },
                    }
                })
                .collect();
            let mut columns = Vec::new();
            if named {
                columns.push("task".to_string());
            }
            columns.extend(group.keys.iter().cloned());
            columns.extend(group.columns.iter().cloned());
            let table_name = format!("{}_tasks", group.name);
            let table = Table {
                name: table_name.clone(),
                columns: columns.clone(),
                rows: Some(Expr::List { items: rows }),
                shared: None,
            };
            body = vec![Stmt::For {
                targets: columns,
                iter: Expr::Name { id: table_name },
                body,
            }];
            Some(table)
        } else {
            None
        };
        // What a program waits for is listed: an orchestrator schedules on it when the
        // program is loaded, before any row is read.
        let awaits = catalog
            .get(&group.constraint)
            .is_some_and(|decl| decl.reads.is_some());
        let parallel = catalog
            .get(&group.constraint)
            .is_some_and(|decl| decl.parallel);
        steps.push(Step {
            name: group.name.clone(),
            constraint: group.constraint.clone(),
            covers: group.covers.clone(),
            doc,
            deps,
            task_count: group.tasks.len(),
            // Rows are named by the template when there is one; listing every name too
            // would cost as much as the table it replaces.
            tasks: if looped && task_template.is_some() {
                Vec::new()
            } else {
                group.tasks.clone()
            },
            task_template: if looped { task_template } else { None },
            upstream: match (&group.upstream_template, looped) {
                (Some(_), true) => Vec::new(),
                _ => group.upstream.clone(),
            },
            upstream_template: group
                .upstream_template
                .as_ref()
                .filter(|_| looped)
                .map(templated_expr),
            outlets: match (&group.outlet_template, looped && !awaits) {
                (Some(_), true) => Vec::new(),
                _ if group.publishes.iter().all(Option::is_none) => Vec::new(),
                _ => group
                    .publishes
                    .iter()
                    .map(|published| match published.as_deref() {
                        Some(Value::Array(parts)) => parts
                            .iter()
                            .map(|p| p.as_str().unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join("."),
                        Some(Value::String(name)) => name.clone(),
                        _ => String::new(),
                    })
                    .collect(),
            },
            assets: group.assets.clone(),
            awaits,
            parallel,
            outlet_template: group
                .outlet_template
                .as_ref()
                .filter(|_| !awaits)
                .filter(|_| looped)
                .map(dotted_format),
            retries: group.retries,
            timeout_minutes: group.timeout_minutes,
            language,
            recipe: recipe_id,
            table,
            body,
        });
    }

    share_tables(&mut steps, &mut definitions);

    // Standard-library imports first, then third-party, as isort would group them.
    let third_party = |line: &String| {
        let module = line
            .split_whitespace()
            .nth(1)
            .and_then(|m| m.split('.').next())
            .unwrap_or("");
        libraries.iter().any(|l| l == module)
    };
    let (mut stdlib, mut external): (Vec<String>, Vec<String>) =
        imports.into_iter().partition(|line| !third_party(line));
    let sort_key = |line: &String| (line.starts_with("from "), line.clone());
    stdlib.sort_by_key(sort_key);
    external.sort_by_key(sort_key);
    let mut imports = stdlib;
    if !external.is_empty() {
        imports.push(String::new());
        imports.extend(external);
    }

    Ok(Module {
        name: name.to_string(),
        // The request is a set: its order does not change the program.
        constraints: constraints
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        host,
        imports,
        libraries: libraries.into_iter().collect(),
        settings: plan
            .settings
            .iter()
            .map(|s| SettingDef {
                name: s.name.clone(),
                value: value_expr(&s.value),
                doc: s.doc.clone(),
            })
            .collect(),
        definitions,
        steps,
    })
}

/// Names a host program binds itself: recipe and helper functions, runtimes, code
/// constants and the modules its recipes import.
fn reserved_names(book: &RecipeBook, host: Language) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["LAKE_PATH", "Run", "run"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut imports: Vec<&String> = Vec::new();
    for recipe in &book.recipes {
        names.insert(recipe.entry.clone());
        names.insert(code_constant(recipe));
        imports.extend(&recipe.imports);
    }
    for helper in &book.helpers {
        names.insert(helper.name.clone());
        imports.extend(&helper.imports);
    }
    for language in Language::ALL {
        if let Some(runtime) = book.runtime(host, language) {
            names.insert(runtime.name.clone());
            imports.extend(&runtime.imports);
        }
    }
    for line in imports {
        // `import a.b` binds a; `import a as b` and `from m import a as b` bind b.
        let words: Vec<&str> = line.split_whitespace().collect();
        let bound = match words.as_slice() {
            [.., "as", name] => Some(*name),
            ["import", module] => module.split('.').next(),
            ["from", _, "import", name] => Some(*name),
            _ => None,
        };
        names.extend(bound.map(str::to_string));
    }
    names
}

/// Tables with the same rows in several steps (typically the list of assets every
/// replication step loops over) become one module-level constant the steps share.
fn share_tables(steps: &mut [Step], definitions: &mut Vec<Definition>) {
    // Each distinct (rows, columns) pair, with the steps whose table it is.
    let mut users: Vec<(&Expr, &[String], Vec<usize>)> = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let Some(Table {
            rows: Some(rows),
            columns,
            ..
        }) = &step.table
        else {
            continue;
        };
        match users
            .iter_mut()
            .find(|(other, other_columns, _)| *other == rows && *other_columns == &columns[..])
        {
            Some((_, _, indices)) => indices.push(index),
            None => users.push((rows, columns, vec![index])),
        }
    }
    let shared: Vec<(Vec<String>, Vec<usize>)> = users
        .into_iter()
        .filter(|(_, _, indices)| indices.len() > 1)
        .map(|(_, columns, indices)| (columns.to_vec(), indices))
        .collect();
    let mut taken: BTreeSet<String> = definitions
        .iter()
        .map(|d| match d {
            Definition::Function { name, .. } | Definition::Constant { name, .. } => name.clone(),
        })
        .collect();
    for (columns, indices) in shared {
        let base = match columns.as_slice() {
            [one] => format!("{one}s").to_uppercase(),
            _ => format!("{}_rows", columns.join("_")).to_uppercase(),
        };
        let mut name = base.clone();
        let mut count = 1;
        while taken.contains(&name) {
            count += 1;
            name = format!("{base}_{count}");
        }
        taken.insert(name.clone());
        let names: Vec<&str> = indices.iter().map(|&i| steps[i].name.as_str()).collect();
        let doc = format!(
            "Rows ({}) of the steps {}.",
            columns.join(", "),
            names.join(", ")
        );
        // The constant takes the first table's rows; the others' copies are dropped.
        let mut rows = None;
        for &index in &indices {
            let step = &mut steps[index];
            if let Some(table) = &mut step.table {
                table.shared = Some(name.clone());
                rows = rows.or(table.rows.take());
            }
            for statement in &mut step.body {
                if let Stmt::For { iter, .. } = statement {
                    *iter = Expr::Name { id: name.clone() };
                }
            }
        }
        definitions.push(Definition::Constant {
            name,
            value: rows.unwrap_or(Expr::List { items: Vec::new() }),
            doc,
            origin: String::new(),
        });
    }
}
