"""The concept model is declared once (concepts/*.toml); its views must not drift."""

from __future__ import annotations

import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import aorist
from aorist import _concepts, _core

ROOT = Path(__file__).resolve().parent.parent


def test_generated_files_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rust_and_python_views_agree() -> None:
    assert list(_core.concept_kinds()) == list(_concepts.CONCEPT_KINDS)
    rust = {kind: dict(types) for kind, types in _core.attribute_types()}
    python = {kind: getattr(_concepts, kind).column_types for kind in _concepts.ATTRIBUTE_KINDS}
    assert rust == python


def test_every_declared_concept_is_public_with_its_fields() -> None:
    declared = tomllib.loads((ROOT / "concepts" / "concepts.toml").read_text())["concept"]
    for concept in declared:
        cls = getattr(aorist, concept["name"])
        parameters = list(inspect.signature(cls).parameters)
        assert parameters == [f["name"] for f in concept.get("fields", [])], concept["name"]


def test_taxonomy_covers_the_api_attributes() -> None:
    required = (
        "KeyStringIdentifier KeyInt64Identifier NumericIdentifier StringIdentifier Int64 "
        "Float64 Boolean FreeText Categorical Count NaturalNumber Proportion POSIXTimestamp "
        "ISO8601Timestamp DateString Year FloatLatitude FloatLongitude URI JSON FloatPrediction"
    ).split()
    for name in required:
        attribute = getattr(aorist, name)("x")
        assert set(attribute.column_types) == set(_concepts.ENGINES)
