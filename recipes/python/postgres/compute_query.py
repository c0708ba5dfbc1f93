# [recipe]
# constraint = "QueryComputed"
# language = "python"
# entry = "postgres_compute_query"
# summary = "The asset's SQL query, written in DuckDB's dialect, is translated to PostgreSQL by sqlglot with each {role} bound to its source table as a quoted name, and its rows fill the staging table in one transaction."
# libraries = ["psycopg", "sqlglot"]
# uses = ["markers", "postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# sql_text = { from = "query.sql", doc = "the query (DuckDB dialect); {role} stands for a source table, {{ and }} for braces" }
# sources = { from = "sources.tables", doc = "[role, schema, table] of each source table" }
# table = { from = "staging.table", doc = "schema and name of the staging table to fill" }
# target = { from = "target.table", doc = "schema and name of the published table: when it holds these rows already, nothing is staged" }
# columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column, or None" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import re

import psycopg
import sqlglot
from psycopg import sql


def postgres_compute_query(
    postgres: dict,
    sql_text: str,
    sources: list[list[str]],
    table: list[str],
    target: list[str],
    columns: list[list] | None,
    contracts: list,
) -> None:
    """CREATE TABLE <staging> AS <query> in one transaction.

    Each `{role}` becomes the quoted name "schema"."table" of that source table (a
    name, never spliced text); `{{` and `}}` are literal braces. The query is then
    translated from DuckDB's dialect to PostgreSQL's by sqlglot. The step is skipped
    when the staging table was made by the same query from the same versions of the
    source tables.
    """
    label = pg_label(table)

    def quote(identifier: str) -> str:
        return '"' + str(identifier).replace('"', '""') + '"'

    tables = {role: f"{quote(schema)}.{quote(name)}" for role, schema, name in sources}
    roles = ", ".join(sorted(tables)) or "none"

    def bind(match: re.Match) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if token in ("{", "}"):
            raise ValueError(
                f"{label}: single {token!r} at character {match.start() + 1} of the "
                f"query; fix: write {token * 2} for a literal brace, or {{role}} for "
                f"a source table (roles: {roles})"
            )
        role = token[1:-1]
        if role not in tables:
            raise ValueError(
                f"{label}: the query's placeholder {token} names no source table "
                f"(roles: {roles}); fix: use one of the roles of "
                "source_asset_names, or write {{ and }} for literal braces"
            )
        return tables[role]

    rendered = re.sub(r"\{\{|\}\}|\{[^{}]*\}|[{}]", bind, sql_text)
    rendered = re.sub(r"[\s;]+\Z", "", rendered.lstrip())
    try:
        statements = sqlglot.transpile(rendered, read="duckdb", write="postgres")
    except sqlglot.errors.ParseError as error:
        raise ValueError(
            f"{label}: the query is not valid DuckDB SQL: {error}; fix: correct the "
            f"asset's sql; the query was:\n{rendered}"
        ) from None
    if len(statements) != 1:
        raise ValueError(
            f"{label}: the query holds {len(statements)} statements; fix: write one "
            "SELECT"
        )
    translated = statements[0]
    with pg_connect(postgres, label) as connection:
        with connection.cursor() as cursor:
            versions = [pg_version(cursor, [s, t]) for _, s, t in sources]
            version = step_key("postgres_compute_query", translated, versions)
            if pg_is_current(cursor, table, version):
                return
            if pg_published_from(cursor, table, target, columns, version, contracts):
                return
            name = pg_name(table)
            cursor.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pg_name(table[:1]))
            )
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
            # A line break before the closing parenthesis ends a final -- comment.
            create = sql.SQL("CREATE TABLE {} AS (\n{}\n)").format(
                name, sql.SQL(translated)
            )
            try:
                cursor.execute(create)
            except psycopg.Error as error:
                cause = str(error).strip().replace("\n", "; ")
                raise ValueError(
                    f"{label}: the query failed on PostgreSQL: {cause}; fix: correct "
                    f"the asset's sql (source tables: {roles}); the query run "
                    f"(translated from DuckDB's dialect) was:\n{translated}"
                ) from None
            pg_set_version(cursor, table, version)
