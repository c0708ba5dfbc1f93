//! Reading recipe files and their headers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use aorist_error::{AoristError, ErrorKind, Result};
use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/recipe_files.rs"));

/// A language recipes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Sql,
    Bash,
    R,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::Python, Language::Sql, Language::Bash, Language::R];

    pub fn parse(name: &str) -> Result<Language> {
        match name {
            "python" => Ok(Language::Python),
            "sql" => Ok(Language::Sql),
            "bash" => Ok(Language::Bash),
            "r" => Ok(Language::R),
            other => Err(AoristError::new(
                ErrorKind::UnknownLanguage,
                "preferences",
                format!("{other:?} is not a recipe language"),
                "use languages from: python, sql, bash, r",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Sql => "sql",
            Language::Bash => "bash",
            Language::R => "r",
        }
    }

    fn comment_prefix(self) -> &'static str {
        match self {
            Language::Sql => "--",
            _ => "#",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One parameter of a recipe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub name: Arc<str>,
    /// The fact it is resolved from (see `facts.rs`).
    pub from: String,
    pub doc: String,
    /// For SQL recipes: how the value is quoted (identifier, literal, lake_path, struct).
    pub sql: Option<String>,
}

/// A recipe file, parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recipe {
    /// Its path under `recipes/`, e.g. `python/download.py`.
    pub id: Arc<str>,
    pub constraint: String,
    /// Other constraints the same code makes true (e.g. checking a table another
    /// program made is checking a table).
    pub also: Vec<String>,
    /// Constraints before `constraint`, on the same concept, that one call of this
    /// recipe makes true as well (a fused recipe: binding chooses it over the separate
    /// steps when it is cheaper). Empty for a recipe of one constraint.
    pub covers: Vec<String>,
    /// What one call costs, in passes over the data (default 1): binding picks the
    /// cheapest set of recipes that makes every constraint true.
    pub cost: u32,
    /// What a fused recipe's step and tasks are called (`source_loaded`), in the
    /// style of constraint names; a recipe of one constraint is named by it.
    pub step: Option<String>,
    pub language: Language,
    pub entry: String,
    pub summary: String,
    pub libraries: Vec<String>,
    pub parameters: Vec<Param>,
    /// Python: the import lines at the top of the body, hoisted into the program.
    pub imports: Vec<String>,
    /// The code: a function definition (Python), a template (SQL) or a script (Bash).
    pub body: String,
    /// Facts that must have one of the listed values for this recipe to apply
    /// (e.g. a SQL recipe that only writes Parquet).
    pub when: Vec<(String, Vec<serde_json::Value>)>,
    /// Helpers (same language) the body calls; defined once before it in a program.
    pub uses: Vec<String>,
}

/// Code shared by recipes of one language (e.g. the step markers every file-writing
/// step keeps), or, with `program`, by every program of that language (its runner).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Helper {
    pub id: String,
    pub name: String,
    pub language: Language,
    pub summary: String,
    pub libraries: Vec<String>,
    pub imports: Vec<String>,
    pub body: String,
    /// Included in every program whose host is `language`, used by a recipe or not.
    pub program: bool,
    pub uses: Vec<String>,
}

/// Code a dialect needs to run recipes of another language (e.g. `run_sql` in Python).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runtime {
    pub id: String,
    pub name: String,
    /// The language the runtime is written in.
    pub language: Language,
    /// The recipe language it runs.
    pub runs: Language,
    pub summary: String,
    pub libraries: Vec<String>,
    pub imports: Vec<String>,
    pub body: String,
    /// Helpers the runtime calls, defined before it.
    pub uses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeHeader {
    recipe: Option<RawRecipe>,
    runtime: Option<RawRuntime>,
    helper: Option<RawHelper>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelper {
    name: String,
    language: String,
    summary: String,
    #[serde(default)]
    libraries: Vec<String>,
    #[serde(default)]
    program: bool,
    #[serde(default)]
    uses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    constraint: String,
    #[serde(default)]
    also: Vec<String>,
    #[serde(default)]
    covers: Vec<String>,
    #[serde(default = "one")]
    cost: u32,
    step: Option<String>,
    language: String,
    entry: String,
    summary: String,
    #[serde(default)]
    libraries: Vec<String>,
    #[serde(default)]
    parameters: toml::Table,
    #[serde(default)]
    when: BTreeMap<String, Vec<toml::Value>>,
    #[serde(default)]
    uses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    from: String,
    doc: String,
    sql: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    name: String,
    language: String,
    runs: String,
    summary: String,
    #[serde(default)]
    libraries: Vec<String>,
    #[serde(default)]
    uses: Vec<String>,
}

/// Every recipe and runtime aorist ships.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipeBook {
    pub recipes: Vec<Recipe>,
    pub runtimes: Vec<Runtime>,
    pub helpers: Vec<Helper>,
}

fn one() -> u32 {
    1
}

const SQL_ROLES: [&str; 5] = ["identifier", "literal", "lake_path", "struct", "checked"];

impl RecipeBook {
    /// The recipes embedded at build time from `recipes/`.
    pub fn builtin() -> Result<RecipeBook> {
        RecipeBook::from_files(RECIPE_FILES.iter().map(|(id, text)| (*id, *text)))
    }

    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RecipeBook> {
        let mut book = RecipeBook {
            recipes: Vec::new(),
            runtimes: Vec::new(),
            helpers: Vec::new(),
        };
        for (id, text) in files {
            let language = match id.rsplit('.').next() {
                Some("sql") => Language::Sql,
                Some("sh") => Language::Bash,
                Some("R") => Language::R,
                _ => Language::Python,
            };
            let (header, body) = split_header(text, language.comment_prefix());
            let header: RecipeHeader = toml::from_str(&header).map_err(|error| {
                AoristError::catalog(format!("recipes/{id}"), error.to_string())
            })?;
            let (imports, body) = if language == Language::Python {
                split_imports(&body)
            } else {
                (Vec::new(), body.trim().to_string() + "\n")
            };
            match (header.recipe, header.runtime, header.helper) {
                (Some(raw), None, None) => {
                    if Language::parse(&raw.language).ok() != Some(language) {
                        return Err(AoristError::catalog(
                            format!("recipes/{id}"),
                            format!(
                                "language {:?} does not match the file extension",
                                raw.language
                            ),
                        ));
                    }
                    let mut parameters = Vec::new();
                    for (name, value) in raw.parameters {
                        let param: RawParam =
                            value.try_into().map_err(|error: toml::de::Error| {
                                AoristError::catalog(
                                    format!("recipes/{id} / {name}"),
                                    error.to_string(),
                                )
                            })?;
                        if language == Language::Sql
                            && !param.sql.as_deref().is_some_and(|r| SQL_ROLES.contains(&r))
                        {
                            return Err(AoristError::catalog(
                                format!("recipes/{id} / {name}"),
                                format!("SQL parameters need sql = one of {SQL_ROLES:?}"),
                            ));
                        }
                        parameters.push(Param {
                            name: Arc::from(name),
                            from: param.from,
                            doc: param.doc,
                            sql: param.sql,
                        });
                    }
                    book.recipes.push(Recipe {
                        id: Arc::from(id),
                        constraint: raw.constraint,
                        also: raw.also,
                        covers: raw.covers,
                        cost: raw.cost,
                        step: raw.step,
                        language,
                        entry: raw.entry,
                        summary: raw.summary,
                        libraries: raw.libraries,
                        parameters,
                        imports,
                        body,
                        when: raw
                            .when
                            .into_iter()
                            .map(|(fact, values)| {
                                let values = values
                                    .into_iter()
                                    .map(serde_json::to_value)
                                    .collect::<std::result::Result<Vec<_>, _>>()
                                    .map_err(|e| {
                                        AoristError::catalog(
                                            format!("recipes/{id} / when"),
                                            e.to_string(),
                                        )
                                    })?;
                                Ok((fact, values))
                            })
                            .collect::<Result<Vec<_>>>()?,
                        uses: raw.uses,
                    });
                }
                (None, Some(raw), None) => book.runtimes.push(Runtime {
                    id: id.to_string(),
                    name: raw.name,
                    language: Language::parse(&raw.language)
                        .map_err(|e| AoristError::catalog(format!("recipes/{id}"), e.cause))?,
                    runs: Language::parse(&raw.runs)
                        .map_err(|e| AoristError::catalog(format!("recipes/{id}"), e.cause))?,
                    summary: raw.summary,
                    libraries: raw.libraries,
                    imports,
                    body,
                    uses: raw.uses,
                }),
                (None, None, Some(raw)) => {
                    let declared = Language::parse(&raw.language)
                        .map_err(|e| AoristError::catalog(format!("recipes/{id}"), e.cause))?;
                    if declared != language {
                        return Err(AoristError::catalog(
                            format!("recipes/{id}"),
                            format!(
                                "language {:?} does not match the file extension",
                                raw.language
                            ),
                        ));
                    }
                    book.helpers.push(Helper {
                        id: id.to_string(),
                        name: raw.name,
                        language,
                        summary: raw.summary,
                        libraries: raw.libraries,
                        imports,
                        body,
                        program: raw.program,
                        uses: raw.uses,
                    });
                }
                _ => {
                    return Err(AoristError::catalog(
                        format!("recipes/{id}"),
                        "the header needs exactly one [recipe], [runtime] or [helper] table",
                    ))
                }
            }
        }
        book.recipes.sort_by(|a, b| a.id.cmp(&b.id));
        book.runtimes.sort_by(|a, b| a.id.cmp(&b.id));
        book.helpers.sort_by(|a, b| a.id.cmp(&b.id));
        // A recipe naming a helper that does not exist fails when the book loads.
        let uses = book
            .recipes
            .iter()
            .map(|r| (r.id.to_string(), r.language, &r.uses))
            .chain(
                book.helpers
                    .iter()
                    .map(|h| (h.id.clone(), h.language, &h.uses)),
            )
            .chain(
                book.runtimes
                    .iter()
                    .map(|r| (r.id.clone(), r.language, &r.uses)),
            );
        for (id, language, names) in uses {
            for name in names {
                if book.helper(language, name).is_none() {
                    return Err(AoristError::catalog(
                        format!("recipes/{id}"),
                        format!("uses the helper {name:?}, which no {language} helper defines"),
                    ));
                }
            }
        }
        Ok(book)
    }

    /// The helper `name` written in `language`.
    pub fn helper(&self, language: Language, name: &str) -> Option<&Helper> {
        self.helpers
            .iter()
            .find(|h| h.language == language && h.name == name)
    }

    /// The helpers `uses` needs, each after the helpers it uses itself, without repeats.
    pub fn helpers_for(&self, language: Language, uses: &[String]) -> Vec<&Helper> {
        let mut out: Vec<&Helper> = Vec::new();
        let mut visiting: Vec<&str> = Vec::new();
        let mut pending: Vec<(&str, bool)> =
            uses.iter().rev().map(|u| (u.as_str(), false)).collect();
        while let Some((name, expanded)) = pending.pop() {
            let Some(helper) = self.helper(language, name) else {
                continue;
            };
            if out.iter().any(|h| h.name == helper.name) {
                continue;
            }
            if expanded {
                out.push(helper);
            } else if !visiting.contains(&name) {
                // Each name is expanded once, so a cycle of helpers cannot loop.
                visiting.push(name);
                pending.push((name, true));
                pending.extend(helper.uses.iter().rev().map(|u| (u.as_str(), false)));
            }
        }
        out
    }

    /// Recipes for `constraint` alone, by language, in file order.
    pub fn for_constraint(&self, constraint: &str) -> BTreeMap<Language, Vec<usize>> {
        let mut found: BTreeMap<Language, Vec<usize>> = BTreeMap::new();
        for (index, recipe) in self.recipes.iter().enumerate() {
            if recipe.covers.is_empty()
                && (recipe.constraint == constraint || recipe.also.iter().any(|c| c == constraint))
            {
                found.entry(recipe.language).or_default().push(index);
            }
        }
        found
    }

    /// Fused recipes ending in `constraint` (see [`Recipe::covers`]), in file order.
    pub fn fused_for(&self, constraint: &str) -> Vec<usize> {
        (0..self.recipes.len())
            .filter(|&i| {
                let recipe = &self.recipes[i];
                !recipe.covers.is_empty() && recipe.constraint == constraint
            })
            .collect()
    }

    /// The runtime, written in `host`, that runs recipes in `runs`.
    pub fn runtime(&self, host: Language, runs: Language) -> Option<&Runtime> {
        self.runtimes
            .iter()
            .find(|r| r.language == host && r.runs == runs)
    }
}

/// The leading comment block (prefix stripped) and the rest of the file.
fn split_header(text: &str, prefix: &str) -> (String, String) {
    let mut header = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.peek() {
        let Some(rest) = line.strip_prefix(prefix) else {
            break;
        };
        header.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        header.push('\n');
        lines.next();
    }
    let body: Vec<&str> = lines.collect();
    (header, body.join("\n"))
}

/// Python import lines at the top of a body, and the code after them. A parenthesised
/// import spanning lines (as black writes a long one) becomes one line.
fn split_imports(body: &str) -> (Vec<String>, String) {
    let mut imports: Vec<String> = Vec::new();
    let mut rest = Vec::new();
    let mut in_imports = true;
    let mut open: Option<String> = None;
    for line in body.lines() {
        if let Some(mut text) = open.take() {
            let part = line.trim().trim_end_matches(',');
            if part == ")" || part.is_empty() {
                if part == ")" {
                    imports.push(text);
                } else {
                    open = Some(text);
                }
            } else {
                if !text.ends_with("import ") {
                    text.push_str(", ");
                }
                text.push_str(part.trim_end_matches(')').trim_end_matches(','));
                if line.trim_end().ends_with(')') {
                    imports.push(text);
                } else {
                    open = Some(text);
                }
            }
            continue;
        }
        if in_imports
            && (line.trim().is_empty() || line.starts_with("import ") || line.starts_with("from "))
        {
            let text = line.trim();
            if let Some(head) = text.strip_suffix('(') {
                open = Some(head.to_string());
            } else if !text.is_empty() {
                imports.push(text.to_string());
            }
            continue;
        }
        in_imports = false;
        rest.push(line);
    }
    (imports, rest.join("\n").trim().to_string() + "\n")
}
