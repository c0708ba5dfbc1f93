"""Language preferences choose recipes, and the chosen recipes run for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from aorist import NoRecipeError, dag, stage

from conftest import lake_tables, run_generated
from fixtures_data import snap_edge_counts, snap_key, snap_like_gz, snap_universe

NAMES = ["ca-GrQc", "web-Google", "amazon0302"]


def serve_snap(http_server) -> dict[str, int]:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    return {f"snap.{snap_key(n)}": c for n, c in counts.items()}


def recipe_of(universe, constraint: str, preferences, fuse: bool = True) -> set[str]:
    import json

    bound = json.loads(
        stage(universe, ["AllAssetsComputed"], "bound", preferences=preferences, fuse=fuse)
    )
    return {s["recipe_id"] for s in bound["steps"] if s["constraint"] == constraint}


def test_bash_recipes_run_when_preferred(http_server, tmp_path: Path) -> None:
    expected = serve_snap(http_server)
    universe = snap_universe(http_server.base_url, NAMES)
    preferences = {"*": ["python", "sql"], "Decompressed": ["bash"], "HeaderRemoved": ["bash"]}
    assert recipe_of(universe, "Decompressed", preferences) == {"bash/decompress.sh"}
    assert recipe_of(universe, "Downloaded", preferences) == {"python/download.py"}
    code = dag(universe, ["AllAssetsComputed"], "python", preferences=preferences)
    assert "run_bash(" in code and "def decompress(" not in code
    run_generated(code, tmp_path)
    assert lake_tables(tmp_path) == expected


def test_a_list_is_the_default_for_every_constraint(http_server) -> None:
    universe = snap_universe(http_server.base_url, NAMES)
    preferences = ["bash", "python", "sql"]
    assert recipe_of(universe, "HeaderRemoved", preferences) == {"bash/remove_header.sh"}
    assert recipe_of(universe, "Downloaded", preferences) == {"python/download.py"}
    assert recipe_of(universe, "TemporaryTableCreated", preferences) == {
        "sql/create_temporary_table.sql"
    }


def test_dialect_default_prefers_python(http_server) -> None:
    universe = snap_universe(http_server.base_url, NAMES)
    # One Python step reads each download into its table; bound alone, each step of the
    # chain is Python too.
    assert recipe_of(universe, "TemporaryTableDropped", None) == {"python/load_source.py"}
    assert recipe_of(universe, "Decompressed", None) == set()
    assert recipe_of(universe, "Decompressed", None, fuse=False) == {"python/decompress.py"}


def test_unmet_preference_is_a_typed_error(http_server) -> None:
    universe = snap_universe(http_server.base_url, NAMES)
    with pytest.raises(NoRecipeError, match=r"Downloaded.*\[bash\].*\[python, r\]"):
        dag(
            universe,
            ["AllAssetsComputed"],
            preferences={"*": ["python", "sql"], "Downloaded": ["bash"]},
        )


def test_r_recipes_run_through_rscript_from_python(http_server, tmp_path: Path) -> None:
    import shutil

    assert shutil.which("Rscript"), "Rscript is missing: run scripts/install-r.sh"
    expected = serve_snap(http_server)
    universe = snap_universe(http_server.base_url, NAMES)
    preferences = {"*": ["python", "sql"], "Downloaded": ["r"], "HeaderRemoved": ["r"]}
    assert recipe_of(universe, "Downloaded", preferences) == {"r/download.R"}
    code = dag(universe, ["AllAssetsComputed"], "python", preferences=preferences)
    assert "run_r(" in code and "def download(" not in code
    run_generated(code, tmp_path)
    assert lake_tables(tmp_path) == expected
