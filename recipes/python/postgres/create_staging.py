# [recipe]
# constraint = "TemporaryTableCreated"
# language = "python"
# entry = "postgres_create_staging_table"
# summary = "The PostgreSQL staging table is checked: its columns and types are the declared ones, and no non-nullable column holds a NULL."
# libraries = ["psycopg"]
# uses = ["postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# table = { from = "staging.table", doc = "schema and name of the staging table" }
# columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column, or None (any)" }
# target = { from = "target.table", doc = "schema and name of the published table" }

from psycopg import sql


def postgres_create_staging_table(
    postgres: dict,
    table: list[str],
    columns: list[list] | None,
    target: list[str],
) -> None:
    """Fail, naming the columns and the fix, unless the staging table has the declared
    columns with the declared types and its non-nullable columns hold no NULL."""
    label = pg_label(table)
    with pg_connect(postgres, label) as connection:
        with connection.cursor() as cursor:
            found = [(n, t) for n, t, _ in pg_columns(cursor, table)]
            if not found:
                if pg_version(cursor, target) is not None:
                    return  # the step before found the table current
                raise RuntimeError(
                    f"{label}: the staging table does not exist; fix: run the "
                    "asset's earlier steps first"
                )
            if columns is None:
                return
            declared = [(n, pg_canonical_type(cursor, t)) for n, t, _ in columns]
            if found != declared:
                show = lambda pairs: ", ".join(f"{n} {t}" for n, t in pairs)  # noqa
                raise ValueError(
                    f"{label}: the staging table has columns ({show(found)}), the "
                    f"schema declares ({show(declared)}); fix: make the computation "
                    "return the declared columns and types, or declare the ones it "
                    "returns"
                )
            required = [n for n, _, nullable in columns if not nullable]
            if not required:
                return
            counts = sql.SQL(", ").join(
                sql.SQL("count(*) FILTER (WHERE {} IS NULL)").format(sql.Identifier(n))
                for n in required
            )
            query = sql.SQL("SELECT {} FROM {}").format(counts, pg_name(table))
            nulls = cursor.execute(query).fetchone()
            bad = [f"{n} ({k})" for n, k in zip(required, nulls) if k]
            if bad:
                raise ValueError(
                    f"{label}: NULL values in non-nullable column(s) "
                    f"{', '.join(bad)}; fix: fill them in the source or computation, "
                    "or declare the attribute nullable"
                )
