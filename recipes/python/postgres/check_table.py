# [recipe]
# constraint = "AssetComputed"
# also = ["AssetAvailable"]
# language = "python"
# entry = "postgres_check_table"
# summary = "The PostgreSQL table exists with the schema's columns in order; its row count is reported."
# libraries = ["psycopg"]
# uses = ["postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# table = { from = "target.table", doc = "schema and name of the table" }
# columns = { from = "columns.names", doc = "the column names the schema declares, in order (None: any)" }

from psycopg import sql


def postgres_check_table(
    postgres: dict, table: list[str], columns: list[str] | None
) -> str | None:
    """Fail unless the table exists with exactly these columns; print its row count.

    Returns the version publishing recorded as the table's comment (None without one):
    an orchestrator tells a changed table from an unchanged one by it.
    """
    schema, name = (str(part) for part in table)
    with pg_connect(postgres, f"{schema}.{name}") as connection:
        with connection.cursor() as cursor:
            actual = [row[0] for row in pg_columns(cursor, table)]
            if not actual if columns is None else actual != list(columns):
                raise RuntimeError(
                    f"table {schema}.{name} has columns {actual}, expected "
                    f"{'some' if columns is None else list(columns)}"
                )
            query = sql.SQL("SELECT count(*) FROM {}").format(pg_name(table))
            count = cursor.execute(query).fetchone()[0]
            version = pg_version(cursor, table) or None
    print(
        f"{schema}.{name}: {count} rows, columns {', '.join(actual)}\n",
        end="",
        flush=True,
    )
    return version
