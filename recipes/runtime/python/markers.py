# [helper]
# name = "markers"
# language = "python"
# summary = "A step's output is trusted only if the step finished, for the inputs and parameters that made it."

import contextlib
import hashlib
import json
import os
import uuid

# Each output file OUT of a step has a marker OUT.done, written after OUT is in place:
#   line 1: the step's key: a digest of its recipe, parameters and its input's marker
#   line 2: the input file it read (empty for none; several are tab-separated);
#   later lines: facts (digests).
# A step is skipped only when OUT exists and its marker holds the key the step has now,
# so a changed parameter reruns the step and, through the keys, every step after it.


def marker_text(path: str) -> str:
    """The marker of `path`, or "" when there is none (the file is not trusted)."""
    try:
        with open(path + ".done", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def step_key(*parts: object) -> str:
    """A digest of `parts`; their JSON encoding keeps their boundaries."""
    text = json.dumps(list(parts), ensure_ascii=True, sort_keys=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


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
            pid = name[len(prefix) :].split("-", 1)[0]
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
        recorded = "\t".join(source)
    else:
        key = step_key(*parts, marker_text(source) if source else "")
        recorded = source or ""
    if os.path.exists(destination) and marker_text(destination).split("\n")[0] == key:
        yield None
        return
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
    lines = [key, recorded, *output.facts]
    write_atomically(destination + ".done", "\n".join(lines) + "\n")


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
