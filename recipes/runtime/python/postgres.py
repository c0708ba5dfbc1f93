# [helper]
# name = "postgres"
# language = "python"
# summary = "Steps connect to the PostgreSQL server POSTGRES names (the password from the environment), quote every name with psycopg.sql, and record each table's version as its comment."
# libraries = ["psycopg", "pyarrow"]
# uses = ["markers"]

import os

import psycopg
import pyarrow
from psycopg import sql

# A PostgreSQL step's output is a table; the step's key (a digest of its inputs and
# parameters, as a local marker's first line) is the table's COMMENT, set in the same
# transaction that fills the table. A step is skipped when its table exists with the
# key the step has now. Renaming a table keeps its comment, so the published table
# carries the version it was made from. The table _aorist.steps holds each step's
# version and outcome, written in that same transaction; the run adds those of the
# steps that failed, and of its steps on local files, as it ends.


def pg_connect(config: dict, where: str):
    """A psycopg connection to the POSTGRES server `config`; the password is read from
    the environment variable config["password_env"] at run time."""
    variable = config["password_env"]
    server = f"{config['user']}@{config['host']}:{config['port']}/{config['dbname']}"
    password = os.environ.get(variable)
    if not password:
        raise RuntimeError(
            f"{where}: the environment variable {variable} is not set; fix: export "
            f"{variable} with the password of PostgreSQL role {config['user']} "
            "before running the program"
        )
    task = TASK.get()
    planning = task is not None and task.dry_run
    engine_store("postgres", config)
    try:
        connection = psycopg.connect(
            host=config["host"],
            port=int(config["port"]),
            user=config["user"],
            dbname=config["dbname"],
            password=password,
            connect_timeout=15,
            application_name="aorist",
            cursor_factory=PlanningCursor if planning else psycopg.Cursor,
        )
        # A dry run changes nothing: the server refuses every write (see PlanningCursor).
        connection.read_only = planning
        return connection
    except psycopg.OperationalError as error:
        cause = str(error).strip().splitlines()[-1] if str(error).strip() else "refused"
        raise RuntimeError(
            f"{where}: cannot connect to PostgreSQL {server}: {cause}; fix: check "
            f"that the server runs there and that {variable} holds the password of "
            f"role {config['user']}"
        ) from None


class PlanningCursor(psycopg.Cursor):
    """A dry run's cursor, in a read-only transaction: the first statement that would
    write stops the step, which is then not up to date (WouldMake)."""

    def execute(self, query, params=None, **kwargs):
        try:
            return super().execute(query, params, **kwargs)
        except psycopg.errors.ReadOnlySqlTransaction:
            raise WouldMake(str(query)) from None


def pg_label(parts) -> str:
    """`schema.table` for messages."""
    return ".".join(str(part) for part in parts)


def pg_name(parts):
    """The quoted name "schema"."table" of `parts`; PostgreSQL cuts a name longer
    than 63 bytes, so such a name is refused instead."""
    for part in parts:
        if len(str(part).encode("utf-8")) > 63:
            raise ValueError(
                f"{pg_label(parts)}: the name {part!r} is longer than PostgreSQL's 63 "
                "bytes; fix: give the dataset or asset a shorter name"
            )
    return sql.Identifier(*(str(part) for part in parts))


def pg_version(cursor, parts) -> str | None:
    """The version (comment) of table `parts`, "" for a table without one, None when
    there is no such table."""
    row = cursor.execute(
        "SELECT coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        [str(parts[0]), str(parts[1])],
    ).fetchone()
    return None if row is None else row[0]


def pg_is_current(cursor, parts, version: str) -> bool:
    """Whether table `parts` holds version `version` (then the step is up to date,
    and says so)."""
    found = pg_version(cursor, parts)
    if found != version:
        task = TASK.get()
        if task is not None:
            task.hint = task.hint or ("missing" if found is None else "stale")
        return False
    report_output("fresh")
    return True


def pg_drop_leftover(cursor, parts) -> None:
    """Drop table `parts`, left by a run that stopped after its rows were published
    (a dry run leaves it)."""
    task = TASK.get()
    if task is None or not task.dry_run:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(pg_name(parts)))


def pg_set_version(cursor, parts, version: str) -> None:
    """Set table `parts`' version and record the step's, in the caller's transaction."""
    cursor.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            pg_name(parts), sql.Literal(version)
        )
    )
    pg_record_step(cursor, version, "made")


def pg_record_step(cursor, version: str, outcome: str) -> None:
    """Record the running task's version and outcome in `_aorist.steps`, in the
    transaction of what it made (committed with it, or not at all)."""
    report_output("made", version=version)
    task = TASK.get()
    if task is not None:
        pg_state_table(cursor)
        cursor.execute(PG_RECORD_STEP, [task.name, version, outcome])
        task.recorded = True


# One row per step: the last version it made (or failed at) and when.
PG_RECORD_STEP = (
    "INSERT INTO _aorist.steps (task, version, outcome, finished_at)"
    " VALUES (%s, %s, %s, clock_timestamp()) ON CONFLICT (task) DO UPDATE SET"
    " version = excluded.version, outcome = excluded.outcome,"
    " finished_at = excluded.finished_at"
)


def pg_state_table(cursor) -> None:
    """Create `_aorist.steps` unless it exists. Steps running at once would race on
    PostgreSQL's catalog (CREATE ... IF NOT EXISTS is not safe concurrently), so
    they take turns under an advisory lock held until their transaction ends."""
    exists = "SELECT to_regclass('_aorist.steps') IS NOT NULL"
    if cursor.execute(exists).fetchone()[0]:
        return
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('aorist._aorist.steps'))")
    cursor.execute("CREATE SCHEMA IF NOT EXISTS _aorist")
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS _aorist.steps (task TEXT PRIMARY KEY,"
        " version TEXT NOT NULL, outcome TEXT NOT NULL,"
        " finished_at TIMESTAMPTZ NOT NULL)"
    )


def pg_record_steps(config: dict, rows: list[tuple[str, str, str]]) -> None:
    """Record (task, version, outcome) rows in `_aorist.steps`, in one transaction:
    the steps of a run that failed, or made local files only."""
    with pg_connect(config, "_aorist.steps") as connection:
        with connection.cursor() as cursor:
            pg_state_table(cursor)
            cursor.executemany(PG_RECORD_STEP, [list(row) for row in rows])


def pg_columns(cursor, parts) -> list:
    """[(name, canonical type, not null)] of table `parts`, in order."""
    return cursor.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum",
        [str(parts[0]), str(parts[1])],
    ).fetchall()


def pg_canonical_type(cursor, declared: str) -> str:
    """The name PostgreSQL gives the type `declared` (BIGINT -> bigint...)."""
    return cursor.execute("SELECT %s::regtype::text", [declared]).fetchone()[0]


def pg_arrow_type(kind) -> str:
    """The PostgreSQL type of a computed column of arrow type `kind`."""
    if pyarrow.types.is_boolean(kind):
        return "BOOLEAN"
    if pyarrow.types.is_integer(kind):
        return "BIGINT"
    if pyarrow.types.is_floating(kind) or pyarrow.types.is_decimal(kind):
        return "DOUBLE PRECISION"
    if pyarrow.types.is_date(kind):
        return "DATE"
    if pyarrow.types.is_timestamp(kind):
        return "TIMESTAMPTZ" if kind.tz else "TIMESTAMP"
    return "TEXT"


def pg_load_arrow(cursor, parts, table, version: str) -> None:
    """Replace table `parts` by the rows of the pyarrow `table` (column types from its
    arrow types), loaded with COPY, its version set; the caller commits."""
    name = pg_name(parts)
    cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pg_name(parts[:1])))
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(
            sql.Identifier(field.name), sql.SQL(pg_arrow_type(field.type))
        )
        for field in table.schema
    )
    cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(name, columns))
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
        name, sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    )
    with cursor.copy(copy) as loading:
        for batch in table.to_batches():
            for row in zip(*(column.to_pylist() for column in batch.columns)):
                loading.write_row(row)
    pg_set_version(cursor, parts, version)


def pg_read_arrow(cursor, parts):
    """The rows of table `parts` as a pyarrow.Table (collected in memory)."""
    cursor.execute(sql.SQL("SELECT * FROM {}").format(pg_name(parts)))
    names = [column.name for column in cursor.description]
    rows = cursor.fetchall()
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    return pyarrow.table({n: pyarrow.array(list(c)) for n, c in zip(names, columns)})


def pg_target_version(columns, staged: str, contracts=()) -> str:
    """The version of a table published from staging rows of version `staged` (several
    steps compute it and compare: a digest of the data alone, not of a step's code),
    and checked against `contracts` (a new one checks the rows again)."""
    checked = [list(contracts)] if contracts else []
    return digest("postgres_convert_to_target", columns, staged, *checked)


def pg_published_from(
    cursor, staging, target, columns, staged: str, contracts=()
) -> bool:
    """Whether table `target` already holds the rows of version `staged`: then the
    staging table need not be made again (a leftover one is dropped, so the later
    steps find none and skip too)."""
    published = pg_version(cursor, target)
    if published != pg_target_version(columns, staged, contracts):
        task = TASK.get()
        if task is not None and published is not None:
            # Its staging table is gone, its table holds older rows.
            task.hint = "stale"
        return False
    pg_drop_leftover(cursor, staging)
    report_output("fresh")
    return True
