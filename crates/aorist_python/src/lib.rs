//! The boundary between Python and the core: the universe crosses once, as JSON of the
//! concept tree; a stage's result comes back as JSON (or text). Errors become the
//! `aorist.errors` class their kind names; nothing panics across.

use std::collections::BTreeMap;
use std::time::Instant;

use aorist_ast::lower;
use aorist_compress::compress;
use aorist_concept::{AttributeKind, ConceptTree, Engine, CONCEPT_KINDS};
use aorist_constraint::{expand, Catalog};
use aorist_error::{AoristError, ErrorKind};
use aorist_recipe::{bind, Language, Preferences, RecipeBook};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use serde::Deserialize;

/// Planning a large universe makes and frees millions of small values; glibc's malloc
/// spent more time consolidating free lists than the stages spent working.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Give the memory a plan freed back to the OS. mimalloc purges freed pages lazily, on
/// later allocations; once a plan returns, the Python side allocates elsewhere, so
/// without this the process would keep the plan's peak (800 MB for 100,000 assets)
/// while it renders.
#[allow(unsafe_code)]
fn release_memory() {
    // SAFETY: `mi_collect` takes no pointers and only frees memory mimalloc itself owns
    // that holds no live allocation; it is safe to call at any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn to_py(py: Python<'_>, error: AoristError) -> PyErr {
    let message = error.to_string();
    let class = py
        .import("aorist.errors")
        .and_then(|module| module.getattr(error.kind.python_class()));
    match class.and_then(|class| class.call1((message.clone(),))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => PyRuntimeError::new_err(message),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, AoristError> {
    serde_json::to_string_pretty(value)
        .map_err(|error| AoristError::catalog("serialisation", error.to_string()))
}

#[derive(Deserialize)]
struct RawPreferences {
    default: Vec<String>,
    #[serde(default)]
    per_constraint: BTreeMap<String, Vec<String>>,
    #[serde(default = "fused")]
    fuse: bool,
}

fn fused() -> bool {
    true
}

fn parse_preferences(text: &str) -> Result<Preferences, AoristError> {
    let raw: RawPreferences = serde_json::from_str(text).map_err(|error| {
        AoristError::new(
            ErrorKind::UnknownLanguage,
            "preferences",
            format!("preferences are not a list of languages: {error}"),
            "pass a list such as [\"python\", \"sql\", \"bash\"] or a dict of such lists",
        )
    })?;
    let languages = |names: &[String]| {
        names
            .iter()
            .map(|n| Language::parse(n))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Preferences {
        default: languages(&raw.default)?,
        per_constraint: raw
            .per_constraint
            .iter()
            .map(|(k, v)| Ok((k.clone(), languages(v)?)))
            .collect::<Result<_, AoristError>>()?,
        fuse: raw.fuse,
    })
}

/// Each stage in order, with the seconds it took and the peak resident memory (MiB) of
/// the process while it ran (what `aorist.stage(..., "timings")` reports).
#[derive(Default, serde::Serialize)]
struct Timings(Vec<(&'static str, f64, Option<f64>)>);

impl Timings {
    fn time<T>(&mut self, stage: &'static str, work: impl FnOnce() -> T) -> T {
        reset_peak();
        let start = Instant::now();
        let result = work();
        let seconds = start.elapsed().as_secs_f64();
        self.0.push((stage, seconds, peak_mib()));
        result
    }
}

/// Linux resets a process's peak resident size (`VmHWM`) when it writes 5 to its
/// `clear_refs`; elsewhere stages report no peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Run the pipeline up to `stage` and return that stage's result.
fn run(
    universe: impl FnOnce() -> Result<ConceptTree, AoristError>,
    constraints: &[String],
    preferences: &str,
    host: &str,
    name: &str,
    stage: &str,
    external: &[String],
) -> Result<String, AoristError> {
    let mut timings = Timings::default();
    let mut tree = timings.time("cross", universe)?;
    tree.set_external(external)?;
    match stage {
        "lineage_text" => return Ok(aorist_concept::graph::lineage_text(&tree)),
        "lineage_dot" => return Ok(aorist_concept::graph::lineage_dot(&tree)),
        _ => {}
    }
    let catalog = Catalog::builtin()?;
    let dag = timings.time("expand", || expand(&tree, &catalog, constraints))?;
    match stage {
        "dag" => return json(&dag),
        "dag_text" => return Ok(dag.to_text(&tree)),
        "dag_dot" => return Ok(dag.to_dot(&tree)),
        _ => {}
    }
    let book = RecipeBook::builtin()?;
    let preferences = parse_preferences(preferences)?;
    let bound = timings.time("bind", || bind(&tree, &catalog, &dag, &book, &preferences))?;
    // Each stage's input is dropped once the next exists: peak memory is what a
    // 100,000-asset universe is limited by.
    drop(dag);
    if stage == "bound" {
        return json(&bound);
    }
    // Past binding only the concepts' paths are needed, not the universe behind them.
    let ConceptTree {
        universe, nodes, ..
    } = tree;
    drop(universe);
    let compressed = timings.time("compress", || compress(&nodes, &bound));
    drop(bound);
    drop(nodes);
    if stage == "compressed" {
        return json(&compressed);
    }
    let host = Language::parse(host)?;
    let module = timings.time("lower", || {
        lower(&compressed, &catalog, &book, host, name, constraints)
    })?;
    match stage {
        // Compact: the AST of a large universe is large, and only machines read it.
        "ast" => serde_json::to_string(&module)
            .map_err(|error| AoristError::catalog("serialisation", error.to_string())),
        "timings" => {
            timings
                .time("serialise", || {
                    serde_json::to_string(&module).map(|text| text.len())
                })
                .map_err(|error| AoristError::catalog("serialisation", error.to_string()))?;
            json(&timings)
        }
        _ => Err(AoristError::catalog(
            "stage",
            format!(
                "unknown stage {stage:?}: use dag, dag_text, dag_dot, lineage_text, \
                 lineage_dot, bound, compressed, ast or timings"
            ),
        )),
    }
}

/// Plan `universe` (the JSON of `Universe.to_tree()`) and return the result of `stage`.
/// The datasets named in `external` are computed by another program: this one reads
/// their assets and computes none of them.
///
/// The JSON may come inside a one-element list: it is then taken out of the list and
/// freed once parsed, instead of living through every stage (it is 100 MB for 100,000
/// assets).
#[pyfunction]
#[pyo3(signature = (universe, constraints, preferences, host, name, stage, external = Vec::new()))]
#[allow(clippy::too_many_arguments)] // Python's keyword arguments, one per input.
fn plan(
    py: Python<'_>,
    universe: Bound<'_, PyAny>,
    constraints: Vec<String>,
    preferences: &str,
    host: &str,
    name: &str,
    stage: &str,
    external: Vec<String>,
) -> PyResult<String> {
    let text = match universe.cast::<PyList>() {
        Ok(list) => list.call_method0("pop")?,
        Err(_) => universe,
    };
    let parse = move || {
        let tree = match text.cast::<PyString>().map(|s| s.to_str()) {
            Ok(Ok(json)) => ConceptTree::from_json(json),
            _ => Err(AoristError::new(
                ErrorKind::Declaration,
                "universe",
                "the universe did not arrive as JSON text",
                "pass Universe.to_json(), or a list holding it",
            )),
        };
        drop(text);
        tree
    };
    let result = run(
        parse,
        &constraints,
        preferences,
        host,
        name,
        stage,
        &external,
    );
    release_memory();
    result.map_err(|error| to_py(py, error))
}

/// Concept kinds the Rust view was generated with (checked against Python's in tests).
#[pyfunction]
fn concept_kinds() -> Vec<&'static str> {
    CONCEPT_KINDS.to_vec()
}

/// The attribute taxonomy as Rust sees it: kind -> [(engine, column type)].
#[pyfunction]
fn attribute_types() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let engines = [
        ("duckdb", Engine::Duckdb),
        ("hive", Engine::Hive),
        ("trino", Engine::Trino),
        ("spark", Engine::Spark),
        ("postgres", Engine::Postgres),
        ("sqlite", Engine::Sqlite),
        ("python", Engine::Python),
        ("r", Engine::R),
    ];
    AttributeKind::ALL
        .iter()
        .map(|kind| {
            (
                kind.name(),
                engines
                    .iter()
                    .map(|(name, engine)| (*name, kind.column_type(*engine)))
                    .collect(),
            )
        })
        .collect()
}

/// Names of the constraints in the catalog, in catalog order.
#[pyfunction]
fn constraint_names(py: Python<'_>) -> PyResult<Vec<String>> {
    let catalog = Catalog::builtin().map_err(|error| to_py(py, error))?;
    Ok(catalog.names().into_iter().map(str::to_string).collect())
}

/// The embedded recipe book (recipes and runtimes with their headers), as JSON.
#[pyfunction]
fn recipe_book(py: Python<'_>) -> PyResult<String> {
    RecipeBook::builtin()
        .and_then(|book| json(&book))
        .map_err(|error| to_py(py, error))
}

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(plan, module)?)?;
    module.add_function(wrap_pyfunction!(concept_kinds, module)?)?;
    module.add_function(wrap_pyfunction!(attribute_types, module)?)?;
    module.add_function(wrap_pyfunction!(constraint_names, module)?)?;
    module.add_function(wrap_pyfunction!(recipe_book, module)?)?;
    Ok(())
}
