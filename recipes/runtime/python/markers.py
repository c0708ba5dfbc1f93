# [helper]
# name = "markers"
# language = "python"
# summary = "A step's output is trusted only if the step finished, for the inputs and parameters that made it."

import contextlib
import contextvars
import hashlib
import inspect
import json
import os
import threading
import urllib.parse
import uuid

# Each output file OUT of a step has a marker OUT.done, written after OUT is in place:
#   line 1: the step's key (its version): a digest of its recipe's code, its parameters
#     and its inputs' markers;
#   line 2: the input file it read (empty for none; several are tab-separated);
#   later lines: facts, each "name value": the parts of the key ("code", "parameters",
#     one "input" per input file) and what the step found (a download's "sha256").
# A step is skipped only when OUT exists and its marker holds the key the step has now,
# so a changed recipe or parameter reruns the step and, through the keys, every step
# after it; the parts say which of them changed.


class Task:
    """The task a recipe runs as: its name, the digest of its recipe's code, whether
    this is a dry run (decide, report, change nothing), what each of its outputs was
    found to be ("fresh" | "made" | "stale" | "missing", why), the versions of those
    it holds (their markers' digests), and whether it recorded its version and outcome
    itself, in the transaction that published what it made.

    `rerun`, when the runner gives one, runs the task again later in the run: a
    temporary copy removed after an earlier run is then not made again unless a step
    that is not fresh reads it (see `restore`). `restoring` marks that second run.

    `store` is where the task's engine keeps the program's state (see `engine_store`):
    the steps table of the server it used, or None for a task on local files only."""

    def __init__(
        self, name: str, function=None, dry_run: bool = False, rerun=None
    ) -> None:
        self.name, self.dry_run, self.rerun = name, dry_run, rerun
        self.code = code_version(function) if function is not None else ""
        self.outcomes: list[tuple[str, str]] = []
        self.versions: list[str] = []
        self.recorded = False
        # The outcome recorded when it made something: "published" for a step that
        # replaced a published table (see report_published).
        self.made_as = "made"
        self.restoring = False
        self.store: tuple[str, dict] | None = None
        # In a dry run on an engine: what the output was found to be before the step
        # would make it ("missing" or "stale"; see WouldMake).
        self.hint = ""

    def found(self, state: str, why: str = "", version: str = "") -> None:
        self.outcomes.append((state, why))
        if version:
            self.versions.append(version)

    def version(self) -> str:
        """The task's version: that of its one output, or a digest of them all."""
        return self.versions[0] if len(self.versions) == 1 else digest(*self.versions)


# Why a dry run finds a step stale whose inputs are fresh, on an engine whose versions
# keep no parts (code, parameters) to tell which changed.
CHANGED = "its version differs: recipe code or parameters changed"


class WouldMake(Exception):
    """In a dry run: the step would change what it makes (the engine refused a write),
    so it is not up to date."""


TASK: contextvars.ContextVar[Task | None] = contextvars.ContextVar(
    "aorist_task", default=None
)
# In a dry run: the marker each output would get (by path), and the task making it.
PREDICTED: dict[str, str] = {}
MADE_BY: dict[str, str] = {}
# In a run: each temporary copy (by path) removed after an earlier run whose kept
# marker (X.removed) holds the key its step has now, with the tasks to run again, in
# order, to have it back (its step's, then those that read it and waited); its
# marker is in PREDICTED until a step that reads it has it made again.
DEFERRED: dict[str, list[Task]] = {}
RESTORING = threading.RLock()
CODE_VERSIONS: dict[object, str] = {}


def code_version(function) -> str:
    """A digest of a recipe's code as generated (its source text, without blank lines
    and imports, which an orchestrator's file may move into the function)."""
    if function not in CODE_VERSIONS:
        try:
            text = inspect.getsource(function)
        except (OSError, TypeError):
            text = repr(getattr(function, "__code__", function))
        kept = [
            line
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith(("import ", "from "))
        ]
        code = "\n".join(kept).encode("utf-8")
        CODE_VERSIONS[function] = hashlib.sha256(code).hexdigest()
    return CODE_VERSIONS[function]


def report_output(state: str, why: str = "", version: str = "") -> None:
    """Tell the running task (if any) what one of its outputs was found to be:
    "fresh" (up to date, left as it was) or "made", and the version it holds."""
    task = TASK.get()
    if task is not None:
        task.found(state, why, version)


def step_record(task: str) -> str:
    """Where an engine without a steps table keeps task `task`'s record: a file (or
    object) of its own, relative to the warehouse (or bucket)."""
    return "_aorist/steps/" + urllib.parse.quote(task, safe="") + ".json"


def report_published(version: str) -> None:
    """Tell the running task that it published a table at `version`."""
    report_output("made", version=version)
    task = TASK.get()
    if task is not None:
        task.made_as = "published"


def engine_store(kind: str, config: dict) -> None:
    """Say that the running task works on engine `kind` ("postgres", "spark",
    "objectstore") configured by `config`: the run records the task's version and
    outcome there (see Run.finish), beside what it made."""
    task = TASK.get()
    if task is not None:
        task.store = (kind, config)


def marker_text(path: str) -> str:
    """The marker of `path`, or "" when there is none (the file is not trusted); in
    a dry run, the marker a step before would have given it."""
    if PREDICTED and os.path.abspath(path) in PREDICTED:
        return PREDICTED[os.path.abspath(path)]
    try:
        with open(path + ".done", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def digest(*parts: object) -> str:
    """A digest of `parts`; their JSON encoding keeps their boundaries."""
    text = json.dumps(list(parts), ensure_ascii=True, sort_keys=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def step_key(*parts: object) -> str:
    """The version of what the running task makes from `parts`: a digest of them and
    of its recipe's code."""
    task = TASK.get()
    return digest(task.code if task else "", *parts)


def version_facts(parts: list, sources: list[str]) -> list[str]:
    """The parts of a key, as marker facts: what a stale step names as changed."""
    task = TASK.get()
    return [
        f"code {task.code if task else ''}",
        f"parameters {digest(*parts)}",
        *(f"input {digest(marker_text(path))}" for path in sources),
    ]


def why_stale(marker: str, facts: list[str], sources: list[str]) -> str:
    """Why an output whose marker is `marker` (its facts now `facts`) must be made again."""
    recorded = marker.split("\n")
    if not recorded[0]:
        return "not finished"
    held = [
        line
        for line in recorded[2:]
        if line.split(" ")[0] in ("code", "parameters", "input")
    ]
    for source in sources:
        if os.path.abspath(source) in MADE_BY:
            return f"upstream {MADE_BY[os.path.abspath(source)]} changed"
    if not held:
        # Its marker keeps no parts: made by an R script, or by an older program.
        return "made by another program"
    for name, label in (
        ("code", "recipe code changed"),
        ("parameters", "parameters changed"),
    ):
        now = [line for line in facts if line.startswith(name + " ")]
        before = [line for line in held if line.startswith(name + " ")]
        if now != before:
            return label
    now = [line for line in facts if line.startswith("input ")]
    before = [line for line in held if line.startswith("input ")]
    for index, source in enumerate(sources):
        if index >= len(before) or before[index] != now[index]:
            return f"upstream {MADE_BY.get(os.path.abspath(source), source)} changed"
    return "inputs changed"


def kept_marker(destination: str) -> str:
    """The marker kept as X.removed when the temporary copy X was removed, or ""."""
    try:
        with open(destination + ".removed", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def restore(sources: list[str]) -> None:
    """Make again each of `sources` that is a temporary copy removed after an earlier
    run and left so by this one (its step was fresh): a step about to read it needs it.
    In a dry run, a step that got here would make its output: it is not up to date.
    A source "s3:<key>" is an object of the bucket (see s3_producing)."""
    reader = TASK.get()
    if reader is not None and reader.dry_run:
        raise WouldMake(f"would read {', '.join(sources)}")
    for source in sources:
        local = not source.startswith("s3:")
        path = os.path.abspath(source) if local else source
        with RESTORING:
            tasks = DEFERRED.pop(path, [])
            if not tasks or (local and os.path.exists(path)):
                continue
            name = reader.name if reader else "a step"
            shown = source if local else source.removeprefix("s3:")
            print(f"making {shown} again for {name}\n", end="", flush=True)
            PREDICTED.pop(path, None)
            for task in tasks:
                task.rerun()


def deferred(held: str, key: str, read_removed) -> bool:
    """Whether the running task's output `held` (a path, or "s3:<key>") is a copy
    removed after an earlier run that made it from what it would be made from now:
    `read_removed()` gives its kept marker ("" for none). Then it is fresh, and made
    again only if a step that is not fresh reads it (see `restore`); otherwise an
    earlier deferral of it is dropped."""
    task = TASK.get()
    if task is not None and task.rerun is not None and not task.restoring:
        removed = read_removed()
        if removed.split("\n")[0] == key:
            with RESTORING:
                PREDICTED[held], DEFERRED[held] = removed, [task]
            task.found("fresh", "up to date (removed after use)", digest(removed))
            return True
    with RESTORING:
        PREDICTED.pop(held, None)
        DEFERRED.pop(held, None)
    return False


def waits_for_removed(paths: list[str]) -> bool:
    """Whether the running task reads one of `paths` that is a temporary copy this
    run left removed (see `producing`): then it is fresh, and runs when a later step
    has the copy made again. When it runs again so, the copies are made first."""
    task = TASK.get()
    if task is None or task.rerun is None:
        return False
    if task.restoring:
        restore(paths)
        return False
    with RESTORING:
        waiting = [
            os.path.abspath(path)
            for path in paths
            if os.path.abspath(path) in DEFERRED and not os.path.exists(path)
        ]
        for path in waiting:
            DEFERRED[path].append(task)
    if waiting:
        task.found("fresh", "up to date (what it reads was removed after use)")
    return bool(waiting)


def plan(destination: str, key: str, lines: list[str], sources: list[str]) -> None:
    """In a dry run: report what the output `destination` is (fresh, stale or missing)
    and, unless fresh, the marker the step would give it."""
    task = TASK.get()
    assert task is not None
    if os.path.exists(destination) and marker_text(destination).split("\n")[0] == key:
        task.found("fresh")
        return
    if os.path.exists(destination):
        task.found("stale", why_stale(marker_text(destination), lines[2:], sources))
    else:
        removed = kept_marker(destination)
        if removed.split("\n")[0] == key:
            # A temporary copy removed after use: what was made from it is as fresh.
            task.found("fresh")
            PREDICTED[os.path.abspath(destination)] = removed
            return
        if removed:
            task.found("stale", why_stale(removed, lines[2:], sources))
        else:
            task.found("missing")
    PREDICTED[os.path.abspath(destination)] = "\n".join(lines) + "\n"
    MADE_BY[os.path.abspath(destination)] = task.name


def unique_part(path: str) -> str:
    """A temporary name next to `path` that no other run or step uses."""
    return f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part"


def invalidate(path: str | list[str] | None) -> None:
    """Distrust `path` (or each of a list) and everything it was made from: their
    markers go, files stay.

    A step that fails on its input calls this, so that once the source is fixed the
    next run makes every file again, with no one deleting anything by hand.
    """
    pending = list(path) if isinstance(path, list) else [path]
    seen = set()
    while pending:
        path = pending.pop()
        if not path or path in seen:
            continue
        seen.add(path)
        lines = marker_text(path).split("\n")
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + ".done")
        pending.extend(lines[1].split("\t") if len(lines) > 1 else [])


def write_atomically(path: str, text: str) -> None:
    part = unique_part(path)
    try:
        with open(part, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(part)
        raise


def replace_made(destination: str, part: str, lines: list[str]) -> None:
    """Put the file `part` in place of `destination`, a made file whose input changed,
    with the marker `lines`: untrusted meanwhile, so that a kill makes it again."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(destination + ".done")
    os.replace(part, destination)
    write_atomically(destination + ".done", "\n".join(lines) + "\n")


def remove_abandoned_parts(path: str) -> None:
    """Remove the parts of `path` that killed runs left (their process is gone), so
    that kills and reruns do not fill the disk."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = os.path.basename(path) + "."
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(folder):
            if not (name.startswith(prefix) and name.endswith(".part")):
                continue
            # <path>.<pid>-<hex>.part, or a marker's <path>.done.<pid>-<hex>.part.
            pid = name[: -len(".part")].rsplit(".", 1)[-1].split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(folder, name))
            except PermissionError:
                pass


class Output:
    """The file a step writes: `part` to write, `facts` to record in its marker."""

    def __init__(self, path: str, key: str, source: str | list[str] | None) -> None:
        self.path, self.key, self.source = path, key, source
        self.part = unique_part(path)
        self.facts: list[str] = []


@contextlib.contextmanager
def producing(destination: str, parts: list, source: str | list[str] | None = None):
    """Yield an `Output` to write, or None when an earlier run already made it.

    `parts` are what decides the content besides the input (recipe name, parameters);
    `source` is the input file (or a list of them), whose marker joins the key. On
    success the part is renamed onto `destination` and the marker written; on failure
    the part is removed and the input distrusted.
    """
    if isinstance(source, list):
        key = step_key(*parts, [marker_text(path) for path in source])
        recorded, sources = "\t".join(source), source
    else:
        key = step_key(*parts, marker_text(source) if source else "")
        recorded, sources = source or "", [source] if source else []
    facts = version_facts(parts, sources)
    task = TASK.get()
    if task is not None and task.dry_run:
        plan(destination, key, [key, recorded, *facts], sources)
        yield None
        return
    if os.path.exists(destination) and marker_text(destination).split("\n")[0] == key:
        if task is not None:
            task.found("fresh", version=digest(marker_text(destination)))
        yield None
        return
    path = os.path.abspath(destination)
    if deferred(
        path,
        key,
        lambda: "" if os.path.exists(destination) else kept_marker(destination),
    ):
        yield None
        return
    restore(sources)
    with contextlib.suppress(FileNotFoundError):
        os.remove(destination + ".done")
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    remove_abandoned_parts(destination)
    output = Output(destination, key, source)
    try:
        yield output
        os.replace(output.part, destination)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.remove(output.part)
        if isinstance(error, Exception):
            invalidate(source)
        raise
    lines = [key, recorded, *facts, *output.facts]
    write_atomically(destination + ".done", "\n".join(lines) + "\n")
    if task is not None:
        task.found("made", version=digest("\n".join(lines) + "\n"))


def check_plain_text(path: str, declared: str) -> None:
    """Fail at once, saying what the file is, when it is not the text it should be."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    found = None
    if head.startswith(b"\x1f\x8b"):
        found, fix = "gzip-compressed", "declare compression=GzipCompression()"
    elif head.startswith(b"BZh"):
        found, fix = "bzip2-compressed", "declare compression=BZip2Compression()"
    elif head.startswith(b"PK\x03\x04"):
        found, fix = "a zip archive", "declare compression=ZipCompression()"
    elif head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        found, fix = "an HTML page", "check the source URL: the server sent a web page"
    if found:
        raise ValueError(
            f"{path} is {found}, but the source is declared as {declared}; fix: {fix}"
        )
