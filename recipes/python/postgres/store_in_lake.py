# [recipe]
# constraint = "StoredInLake"
# language = "python"
# entry = "postgres_store_in_lake"
# summary = "The prepared CSV file is loaded with COPY into a PostgreSQL staging table created with the declared column types, in one transaction."
# libraries = ["psycopg"]
# uses = ["markers", "postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "local temporary CSV file written by the upstream step (header-less, columns in schema order)" }
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# table = { from = "staging.table", doc = "schema and name of the staging table" }
# columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column" }
# target = { from = "target.table", doc = "schema and name of the published table: when it holds these rows already, nothing is staged" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import re

import psycopg
from psycopg import sql


def postgres_store_in_lake(
    source: str,
    postgres: dict,
    table: list[str],
    columns: list[list],
    target: list[str],
    contracts: list,
) -> None:
    """Replace the staging table by the rows of the CSV file `source`: drop, create
    with the declared types, COPY and commit in one transaction, so a failure leaves
    the table as it was. Skipped when the staging table holds this file already, or
    the published table `target` was made from it."""
    label = pg_label(table)
    if not columns:
        raise ValueError(
            f"{label}: a replicated table needs a declared schema; fix: give the "
            "asset's schema its attributes"
        )
    version = step_key("postgres_store_in_lake", columns, marker_text(source))
    name = pg_name(table)
    with pg_connect(postgres, label) as connection:
        with connection.cursor() as cursor:
            if pg_is_current(cursor, table, version):
                return
            if pg_published_from(cursor, table, target, columns, version, contracts):
                return
            restore([source])
            check_plain_text(source, "uncompressed CSV")
            schema = pg_name(table[:1])
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
            definitions = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind))
                for column, kind, _ in columns
            )
            cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(name, definitions))
            copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(name)
            try:
                with cursor.copy(copy) as loading, open(source, "rb") as handle:
                    while chunk := handle.read(1 << 20):
                        loading.write(chunk)
            except psycopg.Error as error:
                cause = str(error).strip().replace("\n", "; ")
                # COPY names the line and column: "COPY t, line 2, column id: "x"".
                found = re.search(
                    r"line (\d+), column (.+?): ", error.diag.context or ""
                )
                if found:
                    primary = error.diag.message_primary or cause
                    cause = f'column "{found[2]}", line {found[1]}: {primary}'
                invalidate(source)
                raise ValueError(
                    f"{label}: PostgreSQL refused a value of {source}: {cause}; fix: "
                    "check the source's declared encoding (CSV or TSV, header lines, "
                    "compression) and that each attribute's type fits its values"
                ) from None
            pg_set_version(cursor, table, version)
