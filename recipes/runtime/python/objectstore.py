# [helper]
# name = "objectstore"
# language = "python"
# summary = "Steps read their inputs from an S3-compatible bucket and write their outputs there, published by one server-side copy, with markers as objects."
# uses = ["checked_columns", "markers"]

import contextlib
import json
import os
import tempfile
import time
import urllib.parse
import uuid

import duckdb
import pyarrow
import pyarrow.fs
import pyarrow.orc
import pyarrow.parquet

# Every file a step reads or writes is an object of the bucket OBJECT_STORE names, under
# a key relative to the bucket; nothing is left on the local disk between steps, so each
# step can run on another machine. An object KEY is trusted only with its marker
# KEY.done (the same lines as a local marker: the step's key, the inputs it read, facts).
# An object is written under a temporary key outside every table's directory, then
# copied onto its key by the server in one request, so readers see the old object or
# the new one. Scratch files live in a temporary directory outside the working
# directory, removed when the step ends.

_S3_CONNECTIONS: dict = {}


def s3_key(path: str) -> str:
    """The bucket-relative key of `path`: no leading slash, no `.` or `..` parts."""
    key = os.path.normpath(str(path)).replace(os.sep, "/").lstrip("/")
    if key in ("", ".") or key.startswith("../"):
        raise ValueError(f"{path!r} is not a key inside the bucket")
    return key


def s3_connect(config: dict):
    """(filesystem, bucket) for OBJECT_STORE `config`, with the keys from the
    environment; the bucket is checked once per process so wrong keys fail here."""
    endpoint, bucket = config["endpoint"], config["bucket"]
    names = [config["access_key_env"], config["secret_key_env"]]
    missing = [name for name in names if not os.environ.get(name)]
    where = f"object store {endpoint}, bucket {bucket}"
    if missing:
        raise RuntimeError(
            f"{where}: the environment variable(s) {', '.join(missing)} are not set; "
            f"fix: export {names[0]} (access key) and {names[1]} (secret key) with "
            "a key pair of the bucket before running the program"
        )
    values = tuple(os.environ[name] for name in names)
    engine_store("objectstore", config)
    cached = _S3_CONNECTIONS.get((endpoint, bucket, values))
    if cached is not None:
        return cached
    parsed = urllib.parse.urlsplit(endpoint)
    filesystem = pyarrow.fs.S3FileSystem(
        access_key=values[0],
        secret_key=values[1],
        endpoint_override=parsed.netloc or parsed.path,
        scheme=parsed.scheme or "http",
        region="us-east-1",
        connect_timeout=10,
        request_timeout=60,
    )
    try:
        info = filesystem.get_file_info(bucket)
        # Listing needs the keys to be right even where a bucket's head is public.
        filesystem.get_file_info(
            pyarrow.fs.FileSelector(f"{bucket}/_aorist", allow_not_found=True)
        )
    except OSError as error:
        raise RuntimeError(
            f"{where}: the server refused the request ({error}); fix: check that "
            f"{names[0]} and {names[1]} hold an access key and secret key the server "
            "accepts for this bucket, and that the endpoint is right"
        ) from None
    if info.type == pyarrow.fs.FileType.NotFound:
        raise RuntimeError(
            f"{where}: the bucket does not exist; fix: create the bucket {bucket} "
            "on the server, or name an existing one in MinioConfig(bucket=...)"
        )
    _S3_CONNECTIONS[(endpoint, bucket, values)] = (filesystem, bucket)
    return filesystem, bucket


def s3_exists(config: dict, key: str) -> bool:
    filesystem, bucket = s3_connect(config)
    info = filesystem.get_file_info(f"{bucket}/{s3_key(key)}")
    return info.type == pyarrow.fs.FileType.File


def s3_read_text(config: dict, key: str) -> str:
    """The text of object `key`, or "" when there is none."""
    filesystem, bucket = s3_connect(config)
    try:
        with filesystem.open_input_stream(f"{bucket}/{s3_key(key)}") as stream:
            return stream.read().decode("utf-8")
    except FileNotFoundError:
        return ""


def s3_delete(config: dict, key: str) -> None:
    filesystem, bucket = s3_connect(config)
    with contextlib.suppress(FileNotFoundError):
        filesystem.delete_file(f"{bucket}/{s3_key(key)}")


def s3_put(config: dict, local: str, key: str) -> None:
    """Upload `local` onto `key`: under a temporary key, then one server-side copy."""
    filesystem, bucket = s3_connect(config)
    temporary = f"{bucket}/_tmp/{uuid.uuid4().hex}/{os.path.basename(s3_key(key))}"
    try:
        with (
            open(local, "rb") as reader,
            filesystem.open_output_stream(temporary) as writer,
        ):
            while chunk := reader.read(1 << 22):
                writer.write(chunk)
        filesystem.copy_file(temporary, f"{bucket}/{s3_key(key)}")
    finally:
        with contextlib.suppress(FileNotFoundError, OSError):
            filesystem.delete_file(temporary)


def s3_record_steps(config: dict, rows: list[tuple[str, str, str]]) -> None:
    """Record (task, version, outcome) rows, each as the object
    `_aorist/steps/<task>.json` of the bucket (one request replaces it)."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for task, version, outcome in rows:
        record = {"finished_at": when, "outcome": outcome, "task": task}
        text = json.dumps({**record, "version": version}, sort_keys=True) + "\n"
        s3_put_text(config, step_record(task), text)


def s3_put_text(config: dict, key: str, text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="aorist-") as scratch:
        path = os.path.join(scratch, "text")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        s3_put(config, path, key)


def s3_get(config: dict, key: str, local: str) -> None:
    """Download object `key` to the local file `local`."""
    filesystem, bucket = s3_connect(config)
    try:
        with (
            filesystem.open_input_stream(f"{bucket}/{s3_key(key)}") as reader,
            open(local, "wb") as writer,
        ):
            while chunk := reader.read(1 << 22):
                writer.write(chunk)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{config['endpoint']}/{bucket}/{s3_key(key)}: no such object; fix: run "
            "the step that writes it first (the program runs them in order)"
        ) from None


def s3_marker(config: dict, key: str) -> str:
    """The marker of object `key`, or "" when there is none (not trusted); in a dry
    run, the marker a step before would have given it."""
    predicted = PREDICTED.get("s3:" + s3_key(key))
    if predicted is not None:
        return predicted
    return s3_read_text(config, s3_key(key) + ".done")


def s3_predict(config: dict, key: str, lines: list, sources: list, why: str = ""):
    """In a dry run: report the object `key`, which its step would make (with the
    marker `lines`), as missing or stale and why; later steps read that marker."""
    task = TASK.get()
    made = [MADE_BY["s3:" + s] for s in sources if "s3:" + s in MADE_BY]
    if why:
        task.found("stale", why)
    elif not (s3_exists(config, key) or s3_read_text(config, key + ".removed")):
        task.found("missing")
    else:
        task.found("stale", f"upstream {made[0]} changed" if made else CHANGED)
    PREDICTED["s3:" + key] = "\n".join(lines) + "\n"
    MADE_BY["s3:" + key] = task.name


def s3_plan(config: dict, key: str, lines: list, sources: list) -> None:
    """In a dry run: as markers.plan, on the bucket (a temporary object removed after
    use keeps its marker as X.removed: what was made from it is as fresh)."""
    if s3_marker(config, key).split("\n")[0] == lines[0] and s3_exists(config, key):
        report_output("fresh")
        return
    removed = s3_read_text(config, key + ".removed")
    if removed.split("\n")[0] == lines[0] and not s3_exists(config, key):
        report_output("fresh")
        PREDICTED["s3:" + key] = removed
        return
    s3_predict(config, key, lines, sources)


def s3_invalidate(config: dict, key) -> None:
    """Distrust `key` (or each of a list) and what it was made from: markers go."""
    pending = list(key) if isinstance(key, list) else [key]
    seen = set()
    while pending:
        key = pending.pop()
        if not key or key in seen:
            continue
        seen.add(key)
        lines = s3_marker(config, key).split("\n")
        s3_delete(config, s3_key(key) + ".done")
        pending.extend(lines[1].split("\t") if len(lines) > 1 else [])


class S3Output:
    """The object a step writes: `part` (a local scratch file) to write, `facts` to
    record in its marker, `scratch` a directory for other scratch files."""

    def __init__(self, key: str, step: str, scratch: str) -> None:
        self.key, self.step, self.scratch = key, step, scratch
        self.part = os.path.join(scratch, "part-" + os.path.basename(key))
        self.facts: list[str] = []


@contextlib.contextmanager
def s3_producing(config: dict, destination: str, parts: list, source=None):
    """Yield an `S3Output`, or None when an earlier run already made the object.

    As markers.producing, on the bucket: `source` (a key or a list) joins the step's
    key through its marker; on success the part is published onto `destination` and
    its marker written; on failure nothing is published and the input distrusted.
    """
    destination = s3_key(destination)
    if isinstance(source, list):
        sources = [s3_key(key) for key in source]
        step = step_key(*parts, [s3_marker(config, key) for key in sources])
        recorded = "\t".join(sources)
    else:
        source = s3_key(source) if source else None
        sources = [source] if source else []
        step = step_key(*parts, s3_marker(config, source) if source else "")
        recorded = source or ""
    task = TASK.get()
    if task is not None and task.dry_run:
        s3_plan(config, destination, [step, recorded], sources)
        yield None
        return
    if s3_marker(config, destination).split("\n")[0] == step and s3_exists(
        config, destination
    ):
        report_output("fresh")
        yield None
        return
    if deferred(
        "s3:" + destination,
        step,
        lambda: (
            ""
            if s3_exists(config, destination)
            else s3_read_text(config, destination + ".removed")
        ),
    ):
        yield None
        return
    restore(["s3:" + key for key in sources])
    s3_delete(config, destination + ".done")
    with tempfile.TemporaryDirectory(prefix="aorist-") as scratch:
        output = S3Output(destination, step, scratch)
        try:
            yield output
        except Exception:
            s3_invalidate(config, source)
            raise
        s3_put(config, output.part, destination)
    marker = "\n".join([step, recorded, *output.facts]) + "\n"
    s3_put_text(config, destination + ".done", marker)
    report_output("made", version=digest(marker))


@contextlib.contextmanager
def s3_local_step(config: dict, source: str, destination: str, parts: list):
    """For a step that transforms one object into another through local files:
    yield (local input, S3Output) or None when the output is already made."""
    with s3_producing(config, destination, parts, source) as output:
        if output is None:
            yield None
            return
        local = os.path.join(output.scratch, "input-" + os.path.basename(source))
        s3_get(config, source, local)
        yield local, output


def s3_read_table(config: dict, key: str) -> pyarrow.Table:
    """The table in Parquet or ORC object `key`."""
    filesystem, bucket = s3_connect(config)
    path = f"{bucket}/{s3_key(key)}"
    try:
        if key.endswith(".orc"):
            with filesystem.open_input_file(path) as handle:
                return pyarrow.orc.ORCFile(handle).read()
        return pyarrow.parquet.read_table(path, filesystem=filesystem)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{config['endpoint']}/{bucket}/{s3_key(key)}: no such table file; fix: "
            "publish the source table first (the program computes it before)"
        ) from None


def s3_catalog(config: dict, tables: list, files: list):
    """An in-memory DuckDB connection where each [schema, name] of `tables` is a
    view over its published file among `files` (keys), read with pyarrow."""
    con = duckdb.connect()

    def quote(identifier: str) -> str:
        return '"' + str(identifier).replace('"', '""') + '"'

    candidates = [s3_key(key) for key in files if not str(key).endswith(".onnx")]
    for number, (schema, name) in enumerate(tables):
        # A table's file is <location>/<table>/<table>.<format>.
        named = [
            key
            for key in candidates
            if os.path.splitext(os.path.basename(key))[0] == name
        ]
        key = named[0] if named else candidates[number]
        view = f"__aorist_source_{number}"
        con.register(view, s3_read_table(config, key))
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}").fetchall()
        con.execute(
            f"CREATE OR REPLACE VIEW {quote(schema)}.{quote(name)} AS "
            f"SELECT * FROM {quote(view)}"
        ).fetchall()
    return con


def s3_checked_select(table: str, columns: list) -> str:
    """The select list converting staged text columns exactly (as the lake's
    create_temporary_table), failing with table, column, line and value."""

    def literal(value) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    return ",\n    ".join(
        checked_column(
            name,
            kind,
            nullable,
            f"{literal(table)} || ': column ' || "
            f"{literal(chr(34) + str(name).replace(chr(34), chr(34) * 2) + chr(34))}"
            " || ', line ' || __aorist_line || ': '",
        )
        for name, kind, nullable in columns
    )


def s3_table_chain(
    config: dict, staged: str, columns, target_format: str, target: str, contracts=()
):
    """(chain, published): the digest of what makes the table (the staged object's
    marker, the declared columns, the format) and whether `target` was published
    from exactly that, so every step after staging can be skipped."""
    # Several steps compute it and compare: a digest of the data alone, not of any
    # one step's code.
    # Contracts join it when there are any: a new one checks the rows again.
    checked = [list(contracts)] if contracts else []
    chain = digest(
        "objectstore_table", s3_marker(config, staged), columns, target_format, *checked
    )
    lines = s3_marker(config, target).split("\n")
    published = f"chain {chain}" in lines[2:] and s3_exists(config, target)
    if published:
        report_output("fresh")
    return chain, published


def s3_temporary_keys(table: list, target: str) -> tuple[str, str]:
    """The keys of the typed staging table and of the converted table file: both
    under _tmp/, outside every table's directory."""
    name = ".".join(str(part) for part in table)
    return f"_tmp/staging/{name}.parquet", f"_tmp/converted/{s3_key(target)}"
