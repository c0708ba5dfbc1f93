"""`aorist dataset new NAME`: write the skeleton of a scienz catalog entry.

The skeleton is a complete, importable module: a doc header with every field the
catalog checks (Source, Licence, Size, Schema, Checksum, Samples) and a DataSet with one
placeholder asset at https://example.org/NAME.csv. Every value in it is a placeholder
to replace; docs/adding-a-dataset.md says how to find the real ones.
"""

from __future__ import annotations

import importlib.util
import keyword
from pathlib import Path

from aorist._base import IDENTIFIER, MAX_IDENTIFIER
from aorist.errors import DeclarationError

# Where the catalog lives in a checkout of aorist, relative to the repository's root.
CATALOG_IN_REPOSITORY = Path("datasets") / "scienz"
# The name also names the row template (NAME_row), which must stay a valid identifier.
_SUFFIX = "_row"

TEMPLATE = '''\
"""{name}: one line saying what one row of this data is.

Placeholder entry written by `aorist dataset new {name}`. Replace this paragraph with
what the data is, who collects and publishes it, and how its files are laid out: the
delimiter, how many header lines come before the data, whether the file ends with an
empty line, how missing values are written, and what is inside an archive.

Source: https://example.org/{name}.csv (the page describing the data, then the file URL)
Licence: the licence the publisher states, named exactly (for example CC BY 4.0)
Size: rows, columns and bytes of each file, as the publisher states them
Schema: id (KeyInt64Identifier), label (FreeText)
Checksum: none published by the source; sha256 is left None
Samples:
    {name}: 1,first example row
"""

from __future__ import annotations

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    FreeText,
    KeyInt64Identifier,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

{name}_row = RowStruct(
    name="{name}_row",
    attributes=[
        KeyInt64Identifier("id", comment="placeholder column: what identifies a row"),
        FreeText("label", comment="placeholder column: replace with the file's columns"),
    ],
)

{name} = DataSet(
    name="{name}",
    description="{name}: placeholder description of the dataset",
    datum_templates=[{name}_row],
    assets=[
        StaticDataTable(
            name="{name}",
            schema=default_tabular_schema({name}_row),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address="https://example.org/{name}.csv"),
                    encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                    sha256=None,
                )
            ),
            tag="{name}",
        )
    ],
)
'''


def render(name: str) -> str:
    """The text of a new catalog module for the dataset ``name``."""
    _check_name(name)
    return TEMPLATE.format(name=name)


def catalog_directory() -> Path:
    """The directory of the scienz catalog a new module belongs in.

    Where ``import scienz`` finds the package, when that is a source tree (an editable
    install, or a checkout on ``sys.path``: a ``pyproject.toml`` next to the package);
    when ``scienz`` is not importable, ``datasets/scienz`` of the checkout this aorist
    runs from. Anything else is a ``DeclarationError`` saying to pass ``--dir``: a module
    written into an installed copy would be lost on the next install.
    """
    try:
        spec = importlib.util.find_spec("scienz")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations))).resolve()
        if (package.parent / "pyproject.toml").is_file():
            return package
        raise DeclarationError(
            f"dataset new: scienz is installed at {package}, not from a source tree, so a "
            "module written there would be lost on the next install; fix: run it where "
            "scienz is installed editable (`pip install -e ./datasets` in a checkout of "
            "aorist) or pass --dir path/to/scienz"
        )
    root = Path(__file__).resolve().parent.parent.parent
    catalog = root / CATALOG_IN_REPOSITORY
    if (catalog / "__init__.py").is_file():
        return catalog
    raise DeclarationError(
        "dataset new: found no scienz catalog (scienz is not importable and this aorist, "
        f"at {Path(__file__).resolve().parent}, is not in a checkout of aorist); fix: run "
        "it in a checkout with scienz installed (`pip install -e ./datasets`) or pass "
        "--dir path/to/scienz"
    )


def new_dataset(name: str, directory: str | Path | None = None) -> Path:
    """Write ``<directory>/<name>.py`` from the template; never overwrite a file.

    Without ``directory``, the module goes where the catalog is (``catalog_directory()``).
    """
    text = render(name)
    directory = catalog_directory() if directory is None else Path(directory)
    path = directory / f"{name}.py"
    if path.exists():
        raise DeclarationError(
            f"dataset new: {path} already exists; fix: choose another name or edit that file"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as out:  # "x": fail rather than overwrite
            out.write(text)
    except FileExistsError:
        raise DeclarationError(
            f"dataset new: {path} already exists; fix: choose another name or edit that file"
        ) from None
    except OSError as error:
        raise DeclarationError(
            f"dataset new: cannot write {path}: {error.strerror or error}; fix: pass a "
            "writable --dir"
        ) from None
    return path


def _check_name(name: str) -> None:
    limit = MAX_IDENTIFIER - len(_SUFFIX)
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name) or name.startswith("_"):
        raise DeclarationError(
            f"dataset new: {name!r} is not a dataset name (letters, digits and underscores, "
            "starting with a letter); fix: use a name such as 'my_dataset'"
        )
    if keyword.iskeyword(name):
        raise DeclarationError(
            f"dataset new: {name!r} is a Python keyword and cannot name a module; "
            f"fix: use a name such as '{name}_data'"
        )
    if len(name.encode()) > limit:
        raise DeclarationError(
            f"dataset new: {name!r} is longer than {limit} bytes; fix: use a shorter name"
        )
