"""The conda recipes: both render, and the scienz package installs from a local channel.

Offline, with py-rattler-build and py-rattler:

1. ``conda-recipe/aorist/recipe.yaml`` and ``conda-recipe/scienz/recipe.yaml`` parse and
   render (schema_version 1, the requirements the recipes promise, versions in step
   with Cargo.toml and datasets/pyproject.toml).
2. scienz is installed the way its recipe's build script does it (pip, no build
   isolation, no index) and assembled into a ``.conda`` file with the rendered
   recipe's name, version, build string, noarch kind and run requirements.
3. A ``file://`` channel is indexed, ``scienz`` is solved and installed into a fresh
   prefix, and the host Python imports scienz from that prefix.

What cannot happen offline: ``rattler-build build`` resolves the recipes' build and host
environments (python, pip, hatchling; for aorist a Rust toolchain and maturin) from
conda-forge, which this machine cannot reach, so neither recipe is built by
rattler-build itself. The solve in step 3 needs ``python`` and ``aorist``, which only
conda-forge (or a build of the aorist recipe) would provide; the test channel holds
stand-ins for both: an empty noarch ``python`` package with the host interpreter's
version (so noarch files land in ``lib/pythonX.Y/site-packages``) and an empty noarch
``aorist`` package. The import in step 3 therefore uses the host interpreter, with the
prefix's site-packages first on PYTHONPATH and aorist from the host environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rattler
from rattler.index import index_fs
from rattler_build import Stage0Recipe, VariantConfig, assemble_package

from conftest import REPO_ROOT

RECIPES = REPO_ROOT / "conda-recipe"
DATASETS = REPO_ROOT / "datasets"
# Fixed so the assembled packages are byte-for-byte reproducible.
TIMESTAMP = datetime(2024, 1, 1, tzinfo=UTC)
HOST_PYTHON = ".".join(str(part) for part in sys.version_info[:3])


def render(name: str) -> list:
    """The rendered variants of ``conda-recipe/<name>/recipe.yaml`` with its variants.yaml."""
    recipe = Stage0Recipe.from_file(RECIPES / name / "recipe.yaml")
    assert recipe.schema_version == 1, f"{name}: recipes are rattler-build v1 (schema_version 1)"
    variants = VariantConfig.from_file(RECIPES / name / "variants.yaml")
    return recipe.render(variants)


def spec_names(specs: list[str]) -> list[str]:
    return [str(spec).split()[0] for spec in specs]


def cargo_version() -> str:
    cargo = tomllib.loads((REPO_ROOT / "Cargo.toml").read_text())
    return cargo["workspace"]["package"]["version"]


def scienz_project() -> dict:
    return tomllib.loads((DATASETS / "pyproject.toml").read_text())["project"]


# ----------------------------------------------------------------------- rendering


def test_aorist_recipe_renders_a_maturin_build_per_python():
    variants = render("aorist")
    assert sorted(v.variant["python"] for v in variants) == ["3.11", "3.12", "3.13"]
    for variant in variants:
        recipe = variant.recipe
        assert (recipe.package.name, str(recipe.package.version)) == ("aorist", cargo_version())
        assert recipe.build.noarch is None, "aorist carries a compiled extension"
        script = "\n".join(recipe.to_dict()["build"]["script"])
        assert "pip install . " in script and "cargo-bundle-licenses" in script
        build = recipe.requirements.build
        assert any(spec.startswith("rust_") for spec in build), build
        assert {"maturin", "pip"} <= set(spec_names(build))
        assert spec_names(recipe.requirements.host) == ["python", "pip", "maturin"]
        assert spec_names(recipe.requirements.run) == ["python", "black"]
        assert recipe.about.license == "Apache-2.0"


def test_scienz_recipe_renders_one_noarch_python_package():
    (variant,) = render("scienz")
    recipe = variant.recipe
    project = scienz_project()
    assert (recipe.package.name, str(recipe.package.version)) == (
        project["name"],
        project["version"],
    )
    assert recipe.build.noarch == "python"
    assert spec_names(recipe.requirements.run) == ["python", "aorist"]
    assert "python >=3.11" in recipe.requirements.run
    assert set(spec_names(recipe.requirements.host)) == {"python", "pip", "hatchling"}
    assert recipe.about.license == "Apache-2.0"
    dumped = recipe.to_dict()
    assert {"scienz", "scienz.snap"} <= set(dumped["tests"][0]["python"]["imports"])


# ----------------------------------------------------------------------- package, channel, prefix


def pip_install_scienz(site_packages: Path) -> None:
    """What the recipe's build script does: pip install the catalog, no isolation, no index."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(site_packages),
            str(DATASETS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, (
        "pip could not build scienz offline (the test needs hatchling installed):\n"
        + proc.stdout[-3000:]
        + proc.stderr[-3000:]
    )


def stand_in(channel: Path, name: str, version: str, noarch: str, depends: list[str]) -> Path:
    """An empty package named like a conda-forge one, for the solver only."""
    files = channel.parent / f"stand-in-{name}" / "share" / "scienz-test"
    files.mkdir(parents=True)
    (files / f"{name}.txt").write_text(f"stand-in for conda-forge's {name}, for tests only\n")
    return assemble_package(
        name=name,
        version=version,
        target_platform="noarch",
        build_string="stand_in_0",
        output_dir=channel / "noarch",
        files_dir=files.parent.parent,
        depends=depends,
        noarch=noarch,  # type: ignore[arg-type]
        summary=f"test stand-in for {name}",
        timestamp=TIMESTAMP,
    ).path


def test_scienz_installs_from_a_local_channel_and_imports(tmp_path):
    (variant,) = render("scienz")
    recipe = variant.recipe

    staged = tmp_path / "staged"
    # A noarch: python package keeps its modules under site-packages/ at the package
    # root; the installer moves them into the prefix's lib/pythonX.Y/site-packages.
    pip_install_scienz(staged / "site-packages")
    assert (staged / "site-packages" / "scienz" / "snap.py").is_file()

    channel = tmp_path / "channel"
    subdir = str(rattler.Subdir.current())
    for name in ("noarch", subdir):
        (channel / name).mkdir(parents=True, exist_ok=True)
    package = assemble_package(
        name=recipe.package.name,
        version=str(recipe.package.version),
        target_platform="noarch",
        build_string=recipe.build.string,
        output_dir=channel / "noarch",
        files_dir=staged,
        depends=list(recipe.requirements.run),
        noarch="python",
        license=recipe.about.license,
        summary=recipe.about.summary,
        timestamp=TIMESTAMP,
    )
    assert package.path.name == f"scienz-{recipe.package.version}-{recipe.build.string}.conda"
    stand_in(channel, "python", HOST_PYTHON, "generic", [])
    stand_in(channel, "aorist", cargo_version(), "python", ["python >=3.11"])
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False))

    records = asyncio.run(
        rattler.solve(
            sources=[channel.as_uri()],
            specs=["scienz"],
            platforms=[subdir, "noarch"],
            gateway=rattler.Gateway(cache_dir=tmp_path / "repodata-cache"),
            channel_relations="disabled",
        )
    )
    solved = {record.name.normalized: str(record.version) for record in records}
    assert solved == {"scienz": "0.1.0", "aorist": cargo_version(), "python": HOST_PYTHON}

    prefix = tmp_path / "prefix"
    asyncio.run(
        rattler.install(
            records, target_prefix=prefix, cache_dir=tmp_path / "pkgs", show_progress=False
        )
    )
    major_minor = ".".join(HOST_PYTHON.split(".")[:2])
    site_packages = prefix / "lib" / f"python{major_minor}" / "site-packages"
    assert (site_packages / "scienz" / "__init__.py").is_file()
    meta = json.loads(
        (prefix / "conda-meta" / f"scienz-0.1.0-{recipe.build.string}.json").read_text()
    )
    assert meta["noarch"] == "python" and "aorist >=0.1.0" in meta["depends"]

    program = (
        "import importlib.metadata, json, scienz, aorist\n"
        "print(json.dumps({'file': scienz.__file__, 'names': sorted(scienz.DATASETS),"
        " 'version': importlib.metadata.version('scienz'),"
        " 'tables': len(scienz.snap.assets)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site_packages)}
    proc = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout)
    assert Path(found["file"]).resolve().is_relative_to(site_packages.resolve()), found["file"]
    assert found["version"] == "0.1.0"
    assert found["tables"] == 12
    assert {"snap", "wine", "iris", "adult", "titanic"} <= set(found["names"])


@pytest.mark.parametrize("name", ["aorist", "scienz"])
def test_recipes_name_a_licence_file_the_source_has(name):
    # rattler-build copies about.license_file from the source; a missing one fails the build.
    (variant, *_) = render(name)
    dumped = variant.recipe.to_dict()
    source = RECIPES / name / dumped["source"][0]["path"]
    script = dumped["build"]["script"]
    script = "\n".join(script) if isinstance(script, list) else script
    for license_file in dumped["about"]["license_file"]:
        if license_file in script:
            continue  # written by the build script (THIRDPARTY.yml)
        assert (source / license_file).is_file(), f"{name}: {source / license_file} is missing"
