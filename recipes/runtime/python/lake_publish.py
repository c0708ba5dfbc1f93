# [helper]
# name = "lake_publish"
# language = "python"
# summary = "A lake table is published in one transaction: a view over its Parquet file, or, for ORC (which DuckDB does not read), a table loaded from it."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "lake_lock"]

import os

import duckdb
import pyarrow
import pyarrow.orc


def publish_lake_table(
    lake_path: str,
    source: str,
    source_format: str,
    table: list[str],
    staging: list[str],
) -> None:
    """Publish the rows of lake_path/source as table, unless it holds them already.

    A Parquet table is a view over its file, so the lake holds its rows once; an ORC
    table is loaded into lake.duckdb, since DuckDB reads no ORC. `_aorist.published`
    records, per table, the marker of the file it was published from (and where that
    file is: a moved lake points its views at the new place): an older table is
    replaced in the same transaction that updates the record, so readers see the old
    rows or the new, never a mix. `_aorist.steps` records, in that transaction, the
    publishing task's version and outcome.
    """
    if source_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected parquet or orc"
        )
    parts = [str(p) for p in table]
    if len(parts) != 2:
        raise ValueError(f"table must be [schema, name], got {table!r}")
    path = os.path.abspath(os.path.join(lake_path, source))
    version = step_key("publish_table", source_format, marker_text(path), path)
    task = TASK.get()
    if task is not None and task.dry_run:
        plan_publish(lake_path, parts, version, path)
        return
    if not os.path.exists(path):
        restore([path])
    if not os.path.exists(path):
        raise FileNotFoundError(path)

    def quote(identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    schema = quote(parts[0])
    name = schema + "." + quote(parts[1])
    view = "__aorist_orc_source"
    with lake_lock(lake_path):
        # Lake files stay readable by the DuckDB 1.5 command-line program (the R
        # dialect's SQL engine): the setting decides the format of a new file.
        con = duckdb.connect(
            os.path.join(lake_path, "lake.duckdb"),
            config={"storage_compatibility_version": "v1.5.0", "memory_limit": "256MB"},
        )
        try:
            create_state_tables(con)
            found = con.execute(
                "SELECT t.table_type, p.version FROM information_schema.tables t"
                " LEFT JOIN _aorist.published p"
                " ON lower(t.table_schema) = lower(p.table_schema)"
                " AND lower(t.table_name) = lower(p.table_name)"
                " WHERE lower(t.table_schema) = lower(?) AND lower(t.table_name) = lower(?)",
                parts,
            ).fetchall()
            if found and found[0][1] == version:
                if task is not None:
                    task.found("fresh", version=version)
                return
            registered = False
            con.begin()
            try:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}").fetchall()
                # A table replaced by a view (or the reverse) is dropped first: DuckDB
                # replaces an object only by one of its kind.
                if found and found[0][0] == "VIEW":
                    con.execute(f"DROP VIEW {name}").fetchall()
                elif found:
                    con.execute(f"DROP TABLE {name}").fetchall()
                if source_format == "parquet":
                    literal = "'" + path.replace("'", "''") + "'"
                    con.execute(
                        f"CREATE VIEW {name} AS SELECT * FROM read_parquet({literal})"
                    ).fetchall()
                else:
                    orc = pyarrow.orc.ORCFile(path)
                    batches = (orc.read_stripe(i) for i in range(orc.nstripes))
                    reader = pyarrow.RecordBatchReader.from_batches(orc.schema, batches)
                    con.register(view, reader)
                    registered = True
                    con.execute(
                        f"CREATE TABLE {name} AS SELECT * FROM {quote(view)}"
                    ).fetchall()
                con.execute(
                    "INSERT OR REPLACE INTO _aorist.published VALUES (?, ?, ?)",
                    [*parts, version],
                ).fetchall()
                # The step's version and outcome, in the transaction that publishes.
                con.execute(
                    "INSERT OR REPLACE INTO _aorist.steps"
                    " VALUES (?, ?, 'published', current_timestamp)",
                    [task.name if task else ".".join(parts), version],
                ).fetchall()
                con.commit()
                if task is not None:
                    task.found("made", version=version)
                    task.recorded = True
            except BaseException:
                con.rollback()
                # A failed step leaves no staging view behind.
                view_name = ".".join(quote(str(p)) for p in staging)
                con.execute(f"DROP VIEW IF EXISTS {view_name}").fetchall()
                raise
            finally:
                if registered:
                    con.unregister(view)
        finally:
            con.close()


def create_state_tables(con) -> None:
    """The lake's own tables, made if missing: `_aorist.published` (the version each
    table was published from) and `_aorist.steps` (each step's version and outcome)."""
    con.execute(
        "CREATE SCHEMA IF NOT EXISTS _aorist;"
        "CREATE TABLE IF NOT EXISTS _aorist.published (table_schema VARCHAR,"
        " table_name VARCHAR, version VARCHAR, PRIMARY KEY (table_schema, table_name));"
        "CREATE TABLE IF NOT EXISTS _aorist.steps (task VARCHAR PRIMARY KEY,"
        " version VARCHAR, outcome VARCHAR, finished_at TIMESTAMPTZ)"
    ).fetchall()


def plan_publish(lake_path: str, parts: list[str], version: str, path: str) -> None:
    """In a dry run: report whether the table is published from this version."""
    task = TASK.get()
    assert task is not None
    published = None
    database = os.path.join(lake_path, "lake.duckdb")
    if os.path.exists(database):
        with lake_lock(lake_path):
            con = duckdb.connect(database, read_only=True)
            try:
                if con.execute(
                    "SELECT count(*) FROM duckdb_tables()"
                    " WHERE schema_name = '_aorist' AND table_name = 'published'"
                ).fetchall()[0][0]:
                    rows = con.execute(
                        "SELECT version FROM _aorist.published WHERE"
                        " lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
                        parts,
                    ).fetchall()
                    published = rows[0][0] if rows else None
            finally:
                con.close()
    if published == version:
        task.found("fresh")
    elif published is None:
        task.found("missing")
    elif path in MADE_BY:
        task.found("stale", f"upstream {MADE_BY[path]} changed")
    else:
        task.found("stale", "recipe code changed, or the lake moved")


def lake_record_steps(lake_path: str, rows: list[tuple[str, str, str]]) -> None:
    """Record (task, version, outcome) rows in `_aorist.steps`, in one transaction: the
    steps a run made or that failed (a published table's step recorded itself)."""
    with lake_lock(lake_path):
        con = duckdb.connect(
            os.path.join(lake_path, "lake.duckdb"),
            config={"storage_compatibility_version": "v1.5.0", "memory_limit": "256MB"},
        )
        try:
            con.begin()
            create_state_tables(con)
            con.executemany(
                "INSERT OR REPLACE INTO _aorist.steps VALUES (?, ?, ?, current_timestamp)",
                [list(row) for row in rows],
            )
            con.commit()
        finally:
            con.close()
