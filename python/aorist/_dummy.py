"""Dummy data: rows that satisfy every contract of an asset's schema, for tests."""

from __future__ import annotations

import datetime
import hashlib
import random
import re
import string
from typing import Any

from aorist._concepts import (
    Asset,
    InlineStorage,
    RemoteStorageSetup,
    ReplicationStorageSetup,
    TabularSchema,
    Universe,
)
from aorist.errors import DeclarationError

try:  # Python 3.11 keeps the regex parser here; sre_parse is its deprecated alias.
    from re import _parser as regex_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layouts
    import sre_parse as regex_parser  # type: ignore[no-redef]

ALPHABET = string.ascii_letters + string.digits
# How many times a value is drawn again before the contracts are found unsatisfiable.
ATTEMPTS = 50


def dummy_data(asset: Asset, n: int, seed: int = 0) -> Any:
    """A `pyarrow.Table` of `n` rows with the columns of `asset`'s schema, satisfying
    every contract declared on them (bounds, accepted values, regex, uniqueness);
    the same for the same seed."""
    try:
        import pyarrow  # type: ignore[import-untyped]
    except ImportError:
        raise ModuleNotFoundError(
            "dummy_data returns a pyarrow.Table; fix: pip install pyarrow (or aorist[run])"
        ) from None

    schema = getattr(asset, "schema", None)
    label = f"{type(asset).__name__} {getattr(asset, 'name', '')!r}"
    if not isinstance(schema, TabularSchema):
        raise DeclarationError(
            f"{label}.schema: dummy data needs declared columns, and this asset's "
            "computation decides them; fix: give the asset a TabularSchema"
        )
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DeclarationError(f"dummy_data: n must be a whole number >= 0, got {n!r}")
    rng = random.Random(seed)
    columns = {}
    fields = []
    for attribute in schema.attributes:
        python = type(attribute).column_types["python"]
        values = _column(attribute, python, n, rng, f"{label}.schema.{attribute.name}")
        kind = {
            "int": pyarrow.int64(),
            "float": pyarrow.float64(),
            "bool": pyarrow.bool_(),
            "str": pyarrow.string(),
        }[python]
        columns[attribute.name] = pyarrow.array(values, type=kind)
        fields.append(pyarrow.field(attribute.name, kind, nullable=attribute.nullable))
    return pyarrow.table(columns, schema=pyarrow.schema(fields))


def _column(attribute: Any, python: str, n: int, rng: random.Random, where: str) -> list:
    accepted = attribute.accepted_values
    if accepted is not None:
        if attribute.unique and n > len(accepted):
            raise DeclarationError(
                f"{where}: {n} distinct values are asked for, and only {len(accepted)} "
                "are accepted; fix: ask for fewer rows, or accept more values"
            )
        return rng.sample(accepted, n) if attribute.unique else rng.choices(accepted, k=n)
    if python == "bool":
        if attribute.unique and n > 2:
            raise DeclarationError(
                f"{where}: {n} distinct values are asked for, and a Boolean has two; fix: "
                "ask for at most 2 rows, or drop unique"
            )
        values = [True, False]
        rng.shuffle(values)
        return values[:n] if attribute.unique else [rng.random() < 0.5 for _ in range(n)]
    if python == "int":
        low = attribute.min if attribute.min is not None else 0
        high = attribute.max if attribute.max is not None else low + max(10 * n, 100)
        if attribute.unique:
            if high - low + 1 < n:
                raise DeclarationError(
                    f"{where}: {n} distinct whole numbers are asked for between {low} and "
                    f"{high}; fix: ask for fewer rows, or widen min and max"
                )
            return rng.sample(range(low, high + 1), n)
        return [rng.randint(low, high) for _ in range(n)]
    if python == "float":
        low = attribute.min if attribute.min is not None else 0.0
        high = attribute.max if attribute.max is not None else low + 1000.0
        return _distinct(lambda: rng.uniform(low, high), n, attribute.unique, where)
    regex = attribute.regex
    if regex is not None:
        parsed = regex_parser.parse(regex)
        return _distinct(lambda: _matching(parsed, regex, rng, where), n, attribute.unique, where)
    kind = type(attribute).__name__
    if kind in ("DateString", "ISO8601Timestamp"):
        start = datetime.datetime(2000, 1, 1)
        made = [start + datetime.timedelta(seconds=rng.randrange(10**9)) for _ in range(n)]
        text = [d.date().isoformat() if kind == "DateString" else d.isoformat() for d in made]
        if not attribute.unique or len(set(text)) == n:
            return text
    return [f"{attribute.name}_{i}_{rng.randrange(10**6)}" for i in range(n)]


def _distinct(draw: Any, n: int, unique: bool, where: str) -> list:
    """`n` values from `draw()`, all different when `unique`."""
    if not unique:
        return [draw() for _ in range(n)]
    seen: set = set()
    values: list = []
    for _ in range(n * ATTEMPTS):
        if len(values) == n:
            break
        value = draw()
        if value not in seen:
            seen.add(value)
            values.append(value)
    if len(values) < n:
        raise DeclarationError(
            f"{where}: found only {len(values)} distinct values satisfying the contracts "
            f"for {n} rows; fix: ask for fewer rows, or loosen the contracts"
        )
    return values


def _matching(parsed: Any, regex: str, rng: random.Random, where: str) -> str:
    """A string the whole of which matches `regex`."""
    for _ in range(ATTEMPTS):
        text = "".join(_emit(item, rng) for item in parsed)
        if re.fullmatch(regex, text):
            return text
    raise DeclarationError(
        f"{where}.regex: found no text matching {regex!r}; fix: simplify the regex, or "
        "give accepted_values instead"
    )


def _emit(item: Any, rng: random.Random) -> str:
    """Text for one node of a parsed regex."""
    op, value = item
    name = str(op)
    if name == "LITERAL":
        return chr(value)
    if name == "NOT_LITERAL":
        return rng.choice([c for c in ALPHABET if ord(c) != value])
    if name == "ANY":
        return rng.choice(ALPHABET)
    if name == "IN":
        return _in(value, rng)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = value
        count = rng.randint(low, min(high, low + 5))
        return "".join("".join(_emit(i, rng) for i in sub) for _ in range(count))
    if name == "SUBPATTERN":
        return "".join(_emit(i, rng) for i in value[-1])
    if name == "ATOMIC_GROUP":
        return "".join(_emit(i, rng) for i in value)
    if name == "BRANCH":
        return "".join(_emit(i, rng) for i in rng.choice(value[1]))
    if name == "CATEGORY":
        return _in([(op, value)], rng)
    return ""  # anchors (AT) match no text


def _in(items: list, rng: random.Random) -> str:
    """A character of a class like [a-z0-9_] (or outside one, [^...])."""
    negate = any(str(op) == "NEGATE" for op, _ in items)
    candidates = string.printable.strip() if negate else ""
    chosen = set()
    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            chosen.add(chr(value))
        elif name == "RANGE":
            chosen.update(chr(c) for c in range(value[0], value[1] + 1))
        elif name == "CATEGORY":
            category = str(value)
            if "DIGIT" in category:
                group = string.digits
            elif "SPACE" in category:
                group = " "
            else:
                group = ALPHABET + "_"
            if "NOT" in category:
                group = "".join(c for c in string.printable.strip() if c not in group)
            chosen.update(group)
    if negate:
        return rng.choice([c for c in candidates if c not in chosen])
    return rng.choice(sorted(chosen))


def dummy_universe(universe: Universe, n: int, seed: int = 0) -> Universe:
    """`universe` with the source of each replicated asset replaced by `n` rows of
    `dummy_data` written in the declaration (an `InlineStorage`): its program runs
    the whole pipeline, models included, without a network. Each asset's rows
    depend on `seed` and its name only."""
    if not isinstance(universe, Universe):
        raise DeclarationError(
            f"dummy_universe: expected a Universe, got {type(universe).__name__}; fix: "
            "pass the universe whose program should run on dummy data"
        )
    datasets = []
    for dataset in universe.datasets:
        assets = [_dummy_asset(dataset.name, asset, n, seed) for asset in dataset.assets]
        datasets.append(_replace(dataset, assets=assets))
    return _replace(universe, datasets=datasets)


def _dummy_asset(dataset: str, asset: Any, n: int, seed: int) -> Any:
    """The asset reading `n` dummy rows instead of its source, if it has one."""
    setup = getattr(asset, "setup", None)
    if isinstance(setup, RemoteStorageSetup):
        field = "remote"
    elif isinstance(setup, ReplicationStorageSetup):
        field = "source"
    else:
        return asset
    digest = hashlib.sha256(f"{seed}\0{dataset}\0{asset.name}".encode()).digest()
    table = dummy_data(asset, n, int.from_bytes(digest[:8], "big"))
    names = [attribute.name for attribute in asset.schema.attributes]
    rows = [[row[name] for name in names] for row in table.to_pylist()]
    # Inline rows are in the attributes' order: names a source gave them go.
    schema = TabularSchema(asset.schema.datum_template, asset.schema.attributes)
    setup = _replace(setup, **{field: InlineStorage(rows=rows)})
    return _replace(asset, schema=schema, setup=setup)


def _replace(concept: Any, **changes: Any) -> Any:
    """A new concept like `concept`, with `changes` (concepts are immutable)."""
    values = {f.name: getattr(concept, f.name) for f in type(concept)._fields}
    return type(concept)(**{**values, **changes})
