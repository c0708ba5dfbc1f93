"""Every Python and shell snippet of README.md and docs/*.md runs, as written.

A document runs top to bottom in a sandbox of its own, so a snippet sees what the ones
before it made (a generated program, a lake, a new catalog module):

- the working directory is a temporary directory holding a copy of ``examples/`` and of
  the scienz catalog (``datasets/``, first on ``PYTHONPATH``, so ``import scienz`` and
  ``aorist dataset new`` use the copy); ``python``, ``python3``, ``aorist`` and
  ``airflow`` are this interpreter's;
- downloads go to a loopback HTTP server (conftest's ``http_server``): each URL of
  ``SERVED`` in a snippet's text is rewritten to the same file on the server, and
  ``QUICKSTART_SOURCES`` (read by ``examples/lab.py``) points at the quickstart's source
  files there.

A ```` ```python ```` block runs as ``python3 -c CODE``; a ```` ```sh ```` block runs
with ``bash -euo pipefail``; a block of any other language (text, toml, none) is not
code and is not run. A block that fails fails the test with its file and line.

Markers: an HTML comment on the line right before a block's opening fence.

- ``<!-- continues -->`` (python only): the block continues the previous python block
  of the document. They run as one program, at this block's place; the earlier block
  does not run on its own.
- ``<!-- not run: REASON -->``: the block is not run, for REASON. ``NOT_RUN`` below lists
  every such block by its first line, and the test fails when the documents differ from
  it, so no block goes unrun without this file saying so.

Any other comment right before a fence is an error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, HttpServer

DOCUMENTS = ["README.md", *sorted(f"docs/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md"))]

# (document, first line of the block): blocks a `<!-- not run: ... -->` marker keeps from running.
NOT_RUN = {
    ("README.md", "make quickstart   # build aorist with duckdb and pyarrow, generate code for "
     "examples/universe.py, run it on the embedded lake, show the tables"),
    ("docs/adding-a-dataset.md", "python -m pytest tests/test_scienz.py -q -W error"),
}  # fmt: skip

STEP_TIMEOUT = 600
RUN_LANGUAGES = ("python", "sh")
FENCE = re.compile(r"^```([\w+-]*)\s*$")
MARKER = re.compile(r"^<!--\s*(.*?)\s*-->\s*$")


def iris_like() -> bytes:
    """150 rows shaped like UCI's iris.data, ending with an empty line as it does."""
    species = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    rows = [
        f"{4.3 + i % 36 / 10:.1f},{2.0 + i % 24 / 10:.1f},{1.0 + i % 59 / 10:.1f},"
        f"{0.1 + i % 25 / 10:.1f},{species[i // 50]}"
        for i in range(150)
    ]
    return ("\n".join(rows) + "\n\n").encode()


# Public URLs the documents download from -> what the loopback server serves in their place.
SERVED = {
    "https://archive.ics.uci.edu/ml/machine-learning-databases/iris/iris.data": iris_like,
}


@dataclass
class Block:
    document: str
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    marker: str | None  # None, "continues" or "not run: REASON"

    @property
    def first_line(self) -> str:
        return next((line for line in self.code.splitlines() if line.strip()), "")

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


def blocks(text: str, document: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with the marker right before each."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            i += 1
        assert i < len(lines), f"{document}:{start + 1}: a code fence is never closed"
        marker = MARKER.match(lines[start - 1]) if start > 0 else None
        found.append(
            Block(
                document,
                start + 1,
                opening.group(1),
                "\n".join(lines[start + 1 : i]) + "\n",
                marker.group(1) if marker else None,
            )
        )
        i += 1
    for block in found:
        if block.marker is None:
            continue
        where = block.where
        if block.marker == "continues":
            assert block.language == "python", f"{where}: only python blocks continue"
        elif block.marker.startswith("not run:"):
            assert block.marker[len("not run:") :].strip(), f"{where}: `not run:` needs a reason"
        else:
            raise AssertionError(
                f"{where}: unknown marker <!-- {block.marker} -->; use <!-- continues --> or "
                "<!-- not run: REASON --> (see tests/test_docs.py)"
            )
    return found


def steps(document_blocks: list[Block]) -> list[Block]:
    """What runs, in order: `continues` chains joined, `not run` and non-code blocks left out."""
    out: list[Block] = []
    last_python: Block | None = None
    for block in document_blocks:
        if block.language not in RUN_LANGUAGES or (block.marker or "").startswith("not run:"):
            continue
        if block.marker == "continues":
            assert last_python is not None, f"{block.where}: continues no python block"
            out.remove(last_python)
            block = Block(
                block.document,
                last_python.line,
                "python",
                last_python.code + block.code,
                None,
            )
        out.append(block)
        if block.language == "python":
            last_python = block
    return out


def read_blocks(document: str) -> list[Block]:
    return blocks((REPO_ROOT / document).read_text(encoding="utf-8"), document)


# ----------------------------------------------------------------------- the convention


def test_markers_join_and_leave_out_blocks() -> None:
    text = (
        "```python\nx = 1\n```\n\n```sh\necho one\n```\n<!-- continues -->\n"
        "```python\nprint(x)\n```\n<!-- not run: needs a cluster -->\n```sh\nkubectl apply\n"
        "```\n```text\nnot code\n```\n"
    )
    found = blocks(text, "doc.md")
    assert [(b.line, b.language, b.marker) for b in found] == [
        (1, "python", None),
        (5, "sh", None),
        (9, "python", "continues"),
        (13, "sh", "not run: needs a cluster"),
        (16, "text", None),
    ]
    assert [(b.line, b.language, b.code) for b in steps(found)] == [
        (5, "sh", "echo one\n"),
        (1, "python", "x = 1\nprint(x)\n"),
    ]
    with pytest.raises(AssertionError, match="unknown marker <!-- skip -->"):
        blocks("<!-- skip -->\n```python\npass\n```\n", "doc.md")
    with pytest.raises(AssertionError, match="needs a reason"):
        blocks("<!-- not run: -->\n```sh\ntrue\n```\n", "doc.md")
    with pytest.raises(AssertionError, match="continues no python block"):
        steps(blocks("<!-- continues -->\n```python\npass\n```\n", "doc.md"))


def test_only_the_listed_blocks_are_not_run() -> None:
    not_run = {
        (b.document, b.first_line)
        for document in DOCUMENTS
        for b in read_blocks(document)
        if (b.marker or "").startswith("not run:")
    }
    assert not_run == NOT_RUN


# ----------------------------------------------------------------------- running them


def sandbox(root: Path, server: HttpServer) -> dict[str, str]:
    """Lay out the sandbox under ``root``; return the environment its snippets run in."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "quickstart-run")
    shutil.copytree(REPO_ROOT / "examples", root / "examples", ignore=ignore)
    shutil.copytree(REPO_ROOT / "datasets", root / "datasets", ignore=ignore)
    for url, make in SERVED.items():
        target = server.root / url.split("://", 1)[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(make())
    quickstart = server.root / "quickstart"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from quickstart import make_sources; make_sources(Path(sys.argv[2]))",
            str(REPO_ROOT / "examples"),
            str(quickstart),
        ],
        check=True,
    )
    bin_dir = root.parent / f"{root.name}-bin"
    bin_dir.mkdir()
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(sys.executable)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "PYTHON")) and k != "LAKE_PATH"
    }
    env.update(
        PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env["PATH"]]),
        PYTHONPATH=str(root / "datasets"),
        QUICKSTART_SOURCES=server.url("quickstart"),
    )
    return env


def served(code: str, server: HttpServer) -> str:
    for url in SERVED:
        code = code.replace(url, server.url(url.split("://", 1)[1]))
    return code


def run(block: Block, cwd: Path, env: dict[str, str], server: HttpServer) -> None:
    code = served(block.code, server)
    command = (
        [sys.executable, "-c", code]
        if block.language == "python"
        else ["bash", "-euo", "pipefail", "-c", code]
    )
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.where}: the {block.language} block ran over {STEP_TIMEOUT} s")
    if result.returncode != 0:
        pytest.fail(
            f"{block.where}: the {block.language} block exited {result.returncode}\n"
            f"--- block ---\n{code}--- stdout ---\n{result.stdout[-4000:]}\n"
            f"--- stderr ---\n{result.stderr[-6000:]}"
        )


def readme_afterwards(root: Path) -> None:
    """What the README's snippets said they would leave behind."""
    import duckdb

    assert (root / "out" / "quickstart.py").is_file()
    assert sorted(p.name for p in (root / "out" / "split").iterdir()) == [
        "quickstart_snap.py",
        "quickstart_wine.py",
    ]
    assert (root / "dags" / "quickstart.py").is_file()
    # The Airflow run filled the lake with snap and wine; starting over left only iris,
    # read from its download straight into its table (no staged copy).
    assert sorted(p.name for p in (root / "lake").iterdir() if p.is_dir()) == ["iris"]
    assert sorted(p.name for p in (root / "tmp").iterdir()) == ["iris"]
    assert (root / "lake" / "iris" / "iris" / "iris.parquet").is_file()
    with duckdb.connect(str(root / "lake" / "lake.duckdb"), read_only=True) as lake:
        assert lake.execute("SELECT count(*) FROM iris.iris").fetchall() == [(150,)]
        assert lake.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('snap', 'wine')"
        ).fetchall() == [(0,)]


def guide_afterwards(root: Path) -> None:
    for catalog in (root / "datasets" / "scienz", root / "path" / "to" / "scienz"):
        assert (catalog / "bird_counts.py").is_file(), catalog


AFTERWARDS = {"README.md": readme_afterwards, "docs/adding-a-dataset.md": guide_afterwards}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_snippet_runs(document: str, tmp_path: Path, http_server: HttpServer) -> None:
    to_run = steps(read_blocks(document))
    assert to_run, f"{document} has no snippet to run"
    root = tmp_path / "sandbox"
    root.mkdir()
    env = sandbox(root, http_server)
    for block in to_run:
        run(block, root, env, http_server)
    AFTERWARDS[document](root)


def test_the_quickstart_runs(tmp_path: Path) -> None:
    """What `make quickstart` runs once aorist is installed."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "quickstart.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "now holds 4 tables" in result.stdout, result.stdout
    assert "wine.wine_table: 178 rows" in result.stdout, result.stdout
