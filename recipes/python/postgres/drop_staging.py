# [recipe]
# constraint = "TemporaryTableDropped"
# language = "python"
# entry = "postgres_drop_staging_table"
# summary = "The PostgreSQL staging table is dropped."
# libraries = ["psycopg"]
# uses = ["postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# table = { from = "staging.table", doc = "schema and name of the staging table" }

from psycopg import sql


def postgres_drop_staging_table(postgres: dict, table: list[str]) -> None:
    """Drop the staging table if it exists."""
    with pg_connect(postgres, pg_label(table)) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(pg_name(table)))
