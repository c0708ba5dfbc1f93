"""`dag()` and the stage functions behind `aorist explain`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aorist import _core
from aorist._base import IDENTIFIER
from aorist._capture import derived_tables as derived_tables
from aorist._concepts import (
    DatumTemplate,
    TabularSchema,
    Universe,
)
from aorist.dialects import DIALECTS, Dialect
from aorist.errors import (
    DeclarationError,
    UnknownConstraintError,
    UnknownDialectError,
    UnknownFormatError,
    UnknownLanguageError,
    UnknownStageError,
)

Preferences = Sequence[str] | Mapping[str, Sequence[str]] | None
STAGES = (
    "dag",
    "dag_text",
    "dag_dot",
    "lineage_text",
    "lineage_dot",
    "bound",
    "compressed",
    "ast",
    "timings",
)


def default_tabular_schema(template: DatumTemplate) -> TabularSchema:
    """A schema whose columns are the template's attributes, in the template's order."""
    if not isinstance(template, DatumTemplate):
        raise DeclarationError(
            f"default_tabular_schema: expected a DatumTemplate, got {type(template).__name__}; "
            "fix: pass a RowStruct or IdentifierTuple"
        )
    return TabularSchema(datum_template=template, attributes=list(template.attributes))  # type: ignore[attr-defined]


def _dialect(dialect: str) -> Dialect:
    if not isinstance(dialect, str):
        raise UnknownDialectError(
            f"dag: the dialect must be one name, got {type(dialect).__name__} {dialect!r}; "
            f"fix: pass one of: {', '.join(sorted(DIALECTS))}"
        )
    if dialect not in DIALECTS:
        raise UnknownDialectError(
            f"dag: there is no dialect {dialect!r}; fix: use one of: {', '.join(sorted(DIALECTS))}"
        )
    return DIALECTS[dialect]


def _preferences(preferences: Preferences, dialect: Dialect, fuse: bool = True) -> dict[str, Any]:
    default = list(dialect.default_preferences)
    per_constraint: dict[str, list[str]] = {}
    if preferences is None:
        pass
    elif isinstance(preferences, Mapping):
        for constraint, languages in preferences.items():
            languages = _languages(languages, f"preferences[{constraint!r}]")
            if constraint == "*":
                default = languages
            else:
                per_constraint[constraint] = languages
    else:
        default = _languages(preferences, "preferences")
    if not isinstance(fuse, bool):
        raise DeclarationError(f"fuse must be True or False, got {fuse!r}; fix: pass a bool")
    return {"default": default, "per_constraint": per_constraint, "fuse": fuse}


def _languages(languages: Any, where: str) -> list[str]:
    if isinstance(languages, str) or not isinstance(languages, Iterable):
        raise UnknownLanguageError(
            f"{where}: expected a list of languages, got {languages!r}; "
            "fix: pass a list such as ['python', 'sql', 'bash']"
        )
    languages = list(languages)
    if not languages:
        raise UnknownLanguageError(f"{where}: the list is empty; fix: name at least one language")
    return languages


def _constraints(constraints: Any) -> list[str]:
    if isinstance(constraints, str):
        return [constraints]
    if not isinstance(constraints, Iterable) or not all(isinstance(c, str) for c in constraints):
        raise UnknownConstraintError(
            f"dag: constraints must be a list of names, got {constraints!r}; "
            "fix: pass e.g. ['AllAssetsComputed']"
        )
    constraints = list(constraints)
    if not constraints:
        raise UnknownConstraintError(
            "dag: no constraint requested; fix: pass e.g. ['AllAssetsComputed']"
        )
    return constraints


def _universe(universe: Any, caller: str) -> Universe:
    if not isinstance(universe, Universe):
        raise DeclarationError(
            f"{caller}: expected a Universe, got {type(universe).__name__}; "
            "fix: pass Universe(name=..., datasets=[...])"
        )
    return universe


def stage(
    universe: Universe,
    constraints: Iterable[str],
    stage: str,
    dialect: str = "python",
    *,
    preferences: Preferences = None,
    name: str | None = None,
    fuse: bool = True,
) -> str:
    """The output of one planning stage (JSON, or text for dag_text/dag_dot)."""
    return _plan(universe, constraints, stage, dialect, preferences, name, (), fuse)


def _plan(
    universe: Universe,
    constraints: Iterable[str],
    stage: str,
    dialect: str,
    preferences: Preferences,
    name: str | None,
    external: Iterable[str],
    fuse: bool = True,
) -> str:
    """`stage` for a program that reads, and does not compute, the datasets named in
    `external` (another program computes them)."""
    universe = _universe(universe, "dag")
    if not isinstance(stage, str) or stage not in STAGES:
        raise UnknownStageError(
            f"stage: there is no stage {stage!r}; fix: use one of: {', '.join(STAGES)}"
        )
    target = _dialect(dialect)
    name = universe.name if name is None else name
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise DeclarationError(
            f"dag: name {name!r} is not an identifier (letters, digits, underscores); "
            "fix: pass a name such as 'my_flow'"
        )
    # In a list, the JSON is handed over: the core frees it once parsed.
    return _core.plan(
        [universe.to_json()],
        _constraints(constraints),
        json.dumps(_preferences(preferences, target, fuse)),
        target.host,
        name,
        stage,
        list(external),
    )


# Cron presets Airflow, Dagster and Prefect all read.
PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")
# Dialects whose programs an orchestrator schedules.
SCHEDULING = ("airflow", "dagster", "prefect")
# Schedulers that run a program on cron expressions only.
ONCE_REFUSED = ("dagster", "prefect")


def _schedule(schedule: Any, dialect: str) -> str | None:
    """`schedule` checked: None, a preset or a five-field cron expression."""
    if schedule is None:
        return None
    if dialect not in SCHEDULING:
        raise DeclarationError(
            f"dag: schedule={schedule!r}, but a {dialect} program is run by whoever starts "
            f"it and has no schedule; fix: run it from cron, or pass schedule=None, or "
            f"generate one of: {', '.join(d for d in SCHEDULING if d in DIALECTS)}"
        )
    if schedule == "@once" and dialect in ONCE_REFUSED:
        raise DeclarationError(
            f"dag: schedule='@once', but {dialect} schedules by cron expression and has no "
            f"run-once schedule; fix: pass schedule=None and start the run yourself, or a "
            "cron expression"
        )
    fields = schedule.split() if isinstance(schedule, str) else []
    cron = len(fields) == 5 and all(CRON_FIELD.fullmatch(field) for field in fields)
    if not (isinstance(schedule, str) and (schedule in PRESETS or cron)):
        raise DeclarationError(
            f"dag: schedule={schedule!r} is neither a cron expression (five fields, such "
            f"as '0 3 * * *') nor a preset; fix: pass one of {', '.join(PRESETS)}, a cron "
            "expression, or None"
        )
    return " ".join(fields) if cron else schedule


CRON_FIELD = re.compile(r"[0-9A-Za-z*/,?#LW-]+")


def dag(
    universe: Universe,
    constraints: Iterable[str],
    dialect: str = "python",
    *,
    preferences: Preferences = None,
    name: str | None = None,
    schedule: str | None = None,
    fuse: bool = True,
) -> str:
    """Generate the program, in `dialect`, that makes `constraints` hold for `universe`.

    `preferences` orders recipe languages: a list, or a dict from constraint name to a
    list with `"*"` as the default. `name` names the program (default: the universe's).
    `schedule` (a cron expression or preset such as "@daily") schedules the dialects an
    orchestrator runs (airflow, dagster, prefect); None leaves runs to be triggered.
    `fuse=False` binds one recipe per constraint instead of letting one recipe make
    several true when that is cheaper (the same tables, more steps and temporary files).
    """
    module = _module(
        universe, constraints, dialect, preferences, name, schedule, external=None, fuse=fuse
    )
    return _dialect(dialect).render(module)


def _module(
    universe: Universe,
    constraints: Iterable[str],
    dialect: str,
    preferences: Preferences,
    name: str | None,
    schedule: str | None,
    external: list[str] | None,
    fuse: bool = True,
) -> dict[str, Any]:
    """The program's cross-language AST, as the dialect renders it. `external` is None
    for a program of the whole universe; for one dataset's program, the datasets it
    reads, which other programs compute."""
    checked = _schedule(schedule, dialect) if isinstance(dialect, str) else None
    module: dict[str, Any] = json.loads(
        _plan(universe, constraints, "ast", dialect, preferences, name, external or (), fuse)
    )
    module["schedule"] = checked
    if external is not None:
        # A program for one dataset cannot say that every asset of every dataset exists.
        gathered = {
            step["name"]
            for step in module["steps"]
            if step["constraint"] == "AllAssetsComputed"
            and not any(step["name"] in other["deps"] for other in module["steps"])
        }
        module["steps"] = [s for s in module["steps"] if s["name"] not in gathered]
    return module


SPLITS = ("dataset",)


def dag_files(
    universe: Universe,
    constraints: Iterable[str],
    dialect: str = "python",
    *,
    split: str | None = None,
    preferences: Preferences = None,
    name: str | None = None,
    schedule: str | None = None,
    library: bool = False,
    fuse: bool = True,
) -> dict[str, str]:
    """The generated program as files: {file name: text}, in a deterministic order.

    Without `split`, one file, `<name><suffix>`, holding `dag(...)`. With
    `split="dataset"`, one program per dataset, named `<name>_<dataset>`, that makes the
    constraints hold for that dataset alone (with the universe's endpoints and access
    declarations). For Airflow this is one DAG file per dataset: a very large universe
    then parses as many small files, each far under Airflow's parse budget. A dataset
    computed from another's tables reads them: its program checks that they exist
    (constraint AssetAvailable) and computes none of them, and its DAG is scheduled on
    their asset events.

    With `library=True` (airflow), the recipe code is written once, as the module
    `<name>_recipes.py` next to the DAG file(s), and each task imports what it calls
    from it; without, every file is self-contained.
    """
    universe = _universe(universe, "dag_files")
    target = _dialect(dialect)
    name = universe.name if name is None else name
    constraints = _constraints(constraints)
    if library and not hasattr(target, "render_library"):
        raise DeclarationError(
            f"dag_files: library=True, but the {dialect} dialect writes self-contained "
            "programs only; fix: pass library=False, or generate dialect='airflow'"
        )
    parts: list[tuple[str, Universe, list[str] | None]] = (
        [(name, universe, None)]
        if split is None
        else list(_split_parts(universe, constraints, split, name))
    )
    lib = f"{name}_recipes" if library else None
    files: dict[str, str] = {}
    definitions: dict[str, dict[str, Any]] = {}
    for program, part, external in parts:
        module = _module(part, constraints, dialect, preferences, program, schedule, external, fuse)
        if lib is None:
            files[f"{program}{target.suffix}"] = target.render(module)
            continue
        for definition in target.library_definitions(module):  # type: ignore[attr-defined]
            definitions.setdefault(definition["name"], definition)
        files[f"{program}{target.suffix}"] = target.render(module, library=lib)  # type: ignore[call-arg]
    if lib is not None:
        if f"{lib}{target.suffix}" in files:
            raise DeclarationError(
                f"dag_files: the library module {lib}{target.suffix} would replace the DAG "
                f"file of the same name; fix: rename the dataset, or pass another name="
            )
        files[f"{lib}{target.suffix}"] = target.render_library(lib, list(definitions.values()))  # type: ignore[attr-defined]
    return files


def _split_parts(
    universe: Universe, constraints: Iterable[str], split: str, name: str
) -> list[tuple[str, Universe, list[str]]]:
    """(program name, universe, datasets it reads) for each dataset.

    The program of a dataset computes that dataset alone. Its universe also holds the
    datasets its assets are computed from (and theirs, so that every name resolves),
    as external: the program checks the tables it reads from them and computes none.
    """
    if split not in SPLITS:
        raise DeclarationError(
            f"dag_files: cannot split by {split!r}; fix: pass split=None or one of: "
            f"{', '.join(SPLITS)}"
        )
    if not universe.datasets:
        raise DeclarationError(
            f"Universe {universe.name!r}.datasets: is empty, so there is nothing to split by "
            "dataset; fix: declare datasets, or pass split=None"
        )
    _constraints(constraints)
    reads: dict[str, set[str]] = {}
    for dataset in universe.datasets:
        reads[dataset.name] = set()
        for asset in dataset.assets:
            roles = getattr(asset.setup, "source_asset_names", None) or {}  # type: ignore[attr-defined]
            for source in roles.values():
                other = source.partition(".")[0] if "." in source else dataset.name
                if other != dataset.name:
                    reads[dataset.name].add(other)
    fields = {field.name: getattr(universe, field.name) for field in universe._fields}
    parts = []
    for dataset in universe.datasets:
        needed, pending = {dataset.name}, [dataset.name]
        while pending:
            for other in sorted(reads.get(pending.pop(), ())):
                if other not in needed:
                    needed.add(other)
                    pending.append(other)
        kept = [d for d in universe.datasets if d.name in needed]
        external = [d.name for d in kept if d.name != dataset.name]
        parts.append((f"{name}_{dataset.name}", Universe(**{**fields, "datasets": kept}), external))
    return parts


VIEWS = ("constraints", "assets")


def explain(
    universe: Universe,
    constraints: Iterable[str],
    format: str = "text",
    view: str = "constraints",
) -> str:
    """The constraint DAG the request expands to, or (`view="assets"`) the asset
    lineage: each asset after the assets it is computed from (sources, derived tables,
    models, predictions), with its roles and how it is computed. Text or Graphviz DOT.
    """
    stages = {"text": "text", "dot": "dot"}
    if not isinstance(format, str) or format not in stages:
        raise UnknownFormatError(
            f"explain: there is no format {format!r}; fix: use one of: {', '.join(stages)}"
        )
    if not isinstance(view, str) or view not in VIEWS:
        raise UnknownFormatError(
            f"explain: there is no view {view!r}; fix: use one of: {', '.join(VIEWS)}"
        )
    prefix = "dag" if view == "constraints" else "lineage"
    return stage(universe, constraints, f"{prefix}_{format}")
