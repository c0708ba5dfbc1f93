"""Check a catalog entry: its doc header, its DataSet, and its schema against its samples.

A catalog entry is a module ``scienz/<name>.py`` that

- opens with a doc header: a one-line summary of what the data is, optional prose, then
  the fields ``Source``, ``Licence``, ``Size``, ``Schema``, ``Checksum`` and ``Samples``
  (``Field: value`` at the start of a line, continued on indented lines);
- binds ``<name>`` to an ``aorist.DataSet`` named ``<name>`` whose assets are
  ``StaticDataTable``s read from a web address (``RemoteStorageSetup`` of a
  ``RemoteStorage`` at a ``WebLocation``);
- gives, under ``Samples``, one line of each asset's file as the source publishes it
  (``asset_name: line``; ``*: line`` stands for every asset without a line of its own;
  a tab is written ``\\t``). The sample must have one field per schema attribute, each
  readable as the attribute's type: that is how a schema that does not match its data is
  caught before any program runs.

``check(entry)`` returns the problems found, one readable sentence each; an empty list
means the entry is sound.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
import types
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aorist import (
    CSVEncoding,
    DataSet,
    NewlineDelimitedJSONEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    StaticDataTable,
    TSVEncoding,
    WebLocation,
)

FIELDS = ("Source", "Licence", "Size", "Schema", "Checksum", "Samples")
_FIELD_LINE = re.compile(r"^([A-Z][A-Za-z]*):(?:\s(.*))?$")
_SHA256 = re.compile(r"\b[0-9a-fA-F]{64}\b")
_BOOLEAN_WORDS = {"true", "false", "t", "f", "1", "0", "yes", "no", "y", "n"}


@dataclass
class Header:
    """The parsed doc header of a catalog entry."""

    summary: str
    fields: dict[str, str] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)


def parse_header(doc: str | None) -> Header:
    """Split a module docstring into its summary line, its fields and its samples."""
    lines = (doc or "").strip("\n").splitlines()
    header = Header(summary=lines[0].strip() if lines else "")
    current: str | None = None
    for line in lines[1:]:
        match = _FIELD_LINE.match(line)
        if match and match.group(1) in FIELDS:
            current = match.group(1)
            header.fields[current] = (match.group(2) or "").strip()
            continue
        if current is None:
            continue
        if line.strip() and not line[:1].isspace():
            current = None  # prose after the fields ends the field
            continue
        if current == "Samples":
            name, sep, sample = line.strip().partition(": ")
            if sep:
                header.samples[name] = sample
            elif line.strip():
                header.samples[line.strip()] = ""
        elif line.strip():
            header.fields[current] = f"{header.fields[current]} {line.strip()}".strip()
    return header


def check(entry: types.ModuleType | str | Path) -> list[str]:
    """The problems of one catalog entry: a module, or the path of a module file."""
    if isinstance(entry, types.ModuleType):
        module = entry
        where = Path(module.__file__ or module.__name__).name
    else:
        path = Path(entry)
        where = path.name
        try:
            module = _load(path)
        except Exception as error:  # the module's own declaration error is the finding
            return [f"{where}: importing it raised {type(error).__name__}: {error}"]
    stem = getattr(module, "__scienz_name__", module.__name__.rpartition(".")[2])
    header = parse_header(module.__doc__)
    problems = _check_header(header)
    dataset = getattr(module, stem, None)
    if not isinstance(dataset, DataSet):
        problems.append(
            f"binds no DataSet to {stem!r} (found {type(dataset).__name__}); fix: declare "
            f"`{stem} = DataSet(name={stem!r}, ...)` in the module"
        )
    else:
        problems += _check_dataset(stem, dataset, header)
    return [f"{where}: {problem}" for problem in problems]


def _load(path: Path) -> types.ModuleType:
    """Import a module file under a private name, without leaving it in sys.modules."""
    name = f"_scienz_entry_{path.stem}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    module.__scienz_name__ = path.stem  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _check_header(header: Header) -> list[str]:
    problems = []
    if not header.summary:
        problems.append(
            "has no doc header; fix: open the module with a docstring saying what the data "
            f"is, then the fields {', '.join(FIELDS)}"
        )
        return problems
    for name in FIELDS:
        if name == "Samples":
            if not header.samples:
                problems.append(
                    "the doc header gives no Samples; fix: add `Samples:` followed by "
                    "indented `asset_name: <one line of the file>` lines"
                )
        elif not header.fields.get(name):
            problems.append(f"the doc header lacks the field {name!r}; fix: add `{name}: ...`")
    return problems


def _check_dataset(stem: str, dataset: DataSet, header: Header) -> list[str]:
    problems = []
    if dataset.name != stem:
        problems.append(
            f"the DataSet is named {dataset.name!r} but the module is {stem!r}; fix: name "
            "them alike, so `from scienz import NAME` gives the dataset NAME"
        )
    if not dataset.assets:
        problems.append("the DataSet has no assets; fix: declare at least one StaticDataTable")
    checksum_text = header.fields.get("Checksum", "")
    published = {digest.lower() for digest in _SHA256.findall(checksum_text)}
    assets: list[Any] = list(dataset.assets)
    stale = sorted(set(header.samples) - {asset.name for asset in assets} - {"*"})
    if stale:
        problems.append(
            f"the doc header has samples for assets the DataSet does not declare: "
            f"{', '.join(stale)}; fix: name each sample after its asset"
        )
    for asset in assets:
        label = f"asset {asset.name!r}"
        remote = _remote(asset)
        if isinstance(remote, str):
            problems.append(f"{label}: {remote}")
            continue
        if remote.sha256 is not None and remote.sha256.lower() not in published:
            problems.append(
                f"{label}: declares sha256 {remote.sha256} but the Checksum field does not "
                "give that digest and where the source publishes it; fix: quote the digest "
                "and its source, or declare sha256=None"
            )
        sample = header.samples.get(asset.name, header.samples.get("*"))
        if sample is None:
            problems.append(
                f"{label}: the doc header has no sample line for it; fix: add "
                f"`{asset.name}: <one line of the file>` under Samples"
            )
            continue
        problems += [f"{label}: {p}" for p in _check_sample(asset, remote, sample)]
    return problems


def _remote(asset: Any) -> RemoteStorage | str:
    """The asset's remote storage, or why the asset is not a catalog asset."""
    if not isinstance(asset, StaticDataTable):
        return f"is a {type(asset).__name__}; fix: catalog assets are StaticDataTables"
    setup = asset.setup
    if not isinstance(setup, RemoteStorageSetup) or not isinstance(setup.remote, RemoteStorage):
        return (
            f"its setup is {type(setup).__name__}; fix: use "
            "RemoteStorageSetup(remote=RemoteStorage(location=WebLocation(...), ...)) and "
            "leave replication to the user"
        )
    location = setup.remote.location
    if not isinstance(location, WebLocation) or not re.match(r"https?://", location.address):
        return f"its location {location!r} is not an http(s) WebLocation; fix: give the URL"
    return setup.remote


def _check_sample(asset: Any, remote: RemoteStorage, sample: str) -> list[str]:
    attributes = list(asset.schema.attributes)
    encoding = remote.encoding
    if isinstance(encoding, NewlineDelimitedJSONEncoding):
        return _check_json_sample(attributes, sample)
    if isinstance(encoding, TSVEncoding):
        values = sample.replace("\\t", "\t").split("\t")
        kind = "tab-separated"
    elif isinstance(encoding, CSVEncoding):
        values = next(csv.reader([sample]), [])
        kind = "comma-separated"
    else:
        return [f"has encoding {type(encoding).__name__}, which the catalog cannot check"]
    if len(values) != len(attributes):
        names = ", ".join(a.name for a in attributes)
        return [
            f"the sample line has {len(values)} {kind} fields but the schema declares "
            f"{len(attributes)} attributes ({names}); fix: make the schema match the file"
        ]
    problems = []
    for attribute, value in zip(attributes, values, strict=True):
        problem = _check_text_value(attribute, value)
        if problem:
            problems.append(problem)
    return problems


def _check_text_value(attribute: Any, value: str) -> str | None:
    kind = type(attribute).column_types["python"]
    text = value.strip()
    where = f"attribute {attribute.name!r} ({type(attribute).__name__})"
    if text == "":
        if attribute.nullable:
            return None
        return f"{where} is empty in the sample; fix: declare it nullable=True"
    try:
        if kind == "int":
            int(text)
        elif kind == "float":
            float(text)
        elif kind == "bool" and text.lower() not in _BOOLEAN_WORDS:
            raise ValueError(text)
    except ValueError:
        return f"{where} cannot read the sample value {value!r}; fix: check the column order"
    return None


def _check_json_sample(attributes: list[Any], sample: str) -> list[str]:
    try:
        record = json.loads(sample)
    except ValueError as error:
        return [f"the sample line is not JSON ({error}); fix: give one line of the file"]
    if not isinstance(record, dict):
        return ["the sample line is not a JSON object; fix: give one line of the file"]
    names = [a.name for a in attributes]
    problems = []
    extra = [key for key in record if key not in names]
    if extra:
        problems.append(
            f"the sample has fields the schema does not declare: {', '.join(extra)}; fix: "
            "declare them (JSON for nested objects)"
        )
    for attribute in attributes:
        where = f"attribute {attribute.name!r} ({type(attribute).__name__})"
        if attribute.name not in record or record[attribute.name] is None:
            if not attribute.nullable:
                problems.append(f"{where} is missing from the sample; fix: declare it nullable")
            continue
        value = record[attribute.name]
        kind = type(attribute).column_types["python"]
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": type(attribute).__name__ == "JSON" or not isinstance(value, dict | list),
        }.get(kind, True)
        if not ok:
            problems.append(
                f"{where} cannot hold the sample value {json.dumps(value)[:60]}; fix: use an "
                "attribute type that matches (JSON for nested objects)"
            )
    return problems
