# [recipe]
# constraint = "QueryComputed"
# language = "python"
# entry = "spark_compute_query"
# summary = "The asset's SQL query, written in DuckDB's dialect, is translated to Spark SQL by sqlglot with each {role} bound to its source table as a quoted name, runs on Spark, and its rows are staged as Parquet in the warehouse."
# libraries = ["pyspark", "sqlglot"]
# uses = ["markers", "spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# sql = { from = "query.sql", doc = "the query (DuckDB dialect); {role} stands for a source table, {{ and }} for braces" }
# sources = { from = "sources.tables", doc = "[role, database, table] of each source table" }
# inputs = { from = "sources.files", doc = "warehouse-relative directories the source tables were published from" }
# output = { from = "staging.file", doc = "warehouse-relative Parquet directory to write" }

import re

import sqlglot


def spark_compute_query(
    spark: dict,
    sql: str,
    sources: list[list[str]],
    inputs: list[str],
    output: str,
) -> None:
    """Write the rows of the query `sql` to <warehouse>/output as Parquet.

    Each `{role}` becomes the quoted name "database"."table" of that source table (a
    name, never spliced text; `{{` and `}}` are literal braces), exactly as the lake
    renders it; then sqlglot translates the DuckDB query to Spark SQL (where source
    names become `database`.`table`). The step is skipped when the directory was
    made by the same query from the same versions of the source tables.
    """
    asset = ".".join(output.rstrip("/").rsplit(".", 1)[0].split("/")[-2:])

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
                f"{asset}: single {token!r} at character {match.start() + 1} of the "
                f"query; fix: write {token * 2} for a literal brace, or {{role}} for "
                f"a source table (roles: {roles})"
            )
        role = token[1:-1]
        if role not in tables:
            raise ValueError(
                f"{asset}: the query's placeholder {token} names no source table "
                f"(roles: {roles}); fix: use one of the roles of "
                "source_asset_names, or write {{ and }} for literal braces"
            )
        return tables[role]

    rendered = re.sub(r"\{\{|\}\}|\{[^{}]*\}|[{}]", bind, sql)
    rendered = re.sub(r"[\s;]+\Z", "", rendered.lstrip())
    try:
        statements = sqlglot.transpile(rendered, read="duckdb", write="spark")
    except sqlglot.errors.SqlglotError as error:
        raise ValueError(
            f"{asset}: the query is not DuckDB SQL that sqlglot can translate to Spark "
            f"SQL: {error}; fix: correct the asset's sql (source tables: {roles}); "
            f"the query was:\n{rendered}"
        ) from None
    if len(statements) != 1:
        raise ValueError(
            f"{asset}: the query holds {len(statements)} statements; fix: write one "
            "SELECT statement"
        )
    translated = statements[0]
    session = spark_session(spark)
    target = spark_location(spark, output)
    files = [spark_location(spark, path) for path in inputs]
    markers = [spark_marker(session, path) for path in files]
    key = step_key("spark_compute_query", translated, markers)
    if spark_is_current(session, target, key):
        return
    staged = spark_temporary(target)
    try:
        session.sql(translated).write.parquet(staged)
    except Exception as error:
        spark_delete(session, staged)
        raise ValueError(
            f"{asset}: the query failed on Spark: {spark_error_text(error)}; fix: "
            f"correct the asset's sql (source tables: {roles}); the Spark SQL run "
            f"(translated from DuckDB's dialect by sqlglot) was:\n{translated}"
        ) from None
    spark_put_directory(session, staged, target, key, files)
