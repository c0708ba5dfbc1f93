# [recipe]
# constraint = "TablePublished"
# language = "python"
# entry = "postgres_publish_table"
# summary = "In one transaction the old PostgreSQL table is dropped and the new one renamed into its place, carrying its version as its comment."
# libraries = ["psycopg"]
# uses = ["markers", "postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# table = { from = "target.table", doc = "schema and name of the table to publish" }

import psycopg
from psycopg import sql


def postgres_publish_table(postgres: dict, table: list[str]) -> None:
    """Swap <schema>."<table>__aorist_new" into place as <schema>.<table> in one
    transaction: readers see the old rows or the new, never a mix; a kill before the
    commit leaves the old table whole. Nothing happens when the table is current."""
    label = pg_label(table)
    fresh = [table[0], f"{table[1]}__aorist_new"]
    with pg_connect(postgres, label) as connection:
        with connection.cursor() as cursor:
            current = pg_version(cursor, table)
            version = pg_version(cursor, fresh)
            if version is None:
                if current is None:
                    raise RuntimeError(
                        f"{label}: neither the table nor its new version "
                        f"{pg_label(fresh)} exists; fix: run the asset's earlier "
                        "steps first"
                    )
                report_output("fresh")
                return
            if version == current:
                pg_drop_leftover(cursor, fresh)
                report_output("fresh")
                return
            try:
                cursor.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(pg_name(table))
                )
                cursor.execute(
                    sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                        pg_name(fresh), sql.Identifier(str(table[1]))
                    )
                )
            except psycopg.errors.DependentObjectsStillExist as error:
                cause = str(error).strip().replace("\n", "; ")
                raise RuntimeError(
                    f"{label}: the table cannot be replaced: {cause}; fix: drop the "
                    "views that read it (they can be created again after the run), "
                    "the old table stays as it was"
                ) from None
            pg_record_step(cursor, version, "published")
