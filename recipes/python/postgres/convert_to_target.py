# [recipe]
# constraint = "ConvertedToTargetEncoding"
# language = "python"
# entry = "postgres_convert_to_target"
# summary = "The staging rows are inserted into a new table <schema>.\"<table>__aorist_new\" with the declared types and NOT NULL constraints, and its contracts checked, in one transaction."
# libraries = ["psycopg"]
# uses = ["markers", "postgres", "contracts"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# staging = { from = "staging.table", doc = "schema and name of the staging table to read" }
# table = { from = "target.table", doc = "schema and name of the table to publish" }
# columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column, or None (the staging table's)" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import psycopg
from psycopg import sql


def postgres_convert_to_target(
    postgres: dict,
    staging: list[str],
    table: list[str],
    columns: list[list] | None,
    contracts: list,
) -> None:
    """Fill <schema>."<table>__aorist_new" with the staging rows (drop if it exists,
    create, insert, check the contracts, set its version, commit). Skipped when the
    published table or the new one already holds this version. A broken contract
    rolls it all back: the published table keeps its rows."""
    label = pg_label(table)
    fresh = [table[0], f"{table[1]}__aorist_new"]
    with pg_connect(postgres, label) as connection:
        with connection.cursor() as cursor:
            staged = pg_version(cursor, staging)
            if staged is None:
                if pg_version(cursor, table) is not None:
                    return  # the step before found the table current
                raise RuntimeError(
                    f"{label}: the staging table {pg_label(staging)} does not exist; "
                    "fix: run the asset's earlier steps first"
                )
            version = pg_target_version(columns, staged, contracts)
            if pg_is_current(cursor, table, version) or pg_is_current(
                cursor, fresh, version
            ):
                return
            name = pg_name(fresh)
            cursor.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pg_name(table[:1]))
            )
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
            if columns is None:
                create = sql.SQL("CREATE TABLE {} (LIKE {})").format(
                    name, pg_name(staging)
                )
            else:
                create = sql.SQL("CREATE TABLE {} ({})").format(
                    name,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}{}").format(
                            sql.Identifier(column),
                            sql.SQL(kind),
                            sql.SQL("" if nullable else " NOT NULL"),
                        )
                        for column, kind, nullable in columns
                    ),
                )
            cursor.execute(create)
            try:
                cursor.execute(
                    sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                        name, pg_name(staging)
                    )
                )
            except psycopg.Error as error:
                cause = str(error).strip().replace("\n", "; ")
                raise ValueError(
                    f"{label}: the staging rows do not fit the declared columns: "
                    f"{cause}; fix: correct the source's values or the schema"
                ) from None
            check_contracts(
                lambda query: cursor.execute(query).fetchall(),
                name.as_string(connection),
                label,
                contracts,
                "postgres",
            )
            pg_set_version(cursor, fresh, version)
