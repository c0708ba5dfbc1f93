# [recipe]
# constraint = "QueryComputed"
# language = "python"
# entry = "compute_query"
# summary = "The asset's SQL query runs on the lake's DuckDB database, each {role} bound to its source table as a quoted name, and its rows are staged as a Parquet file."
# libraries = ["duckdb"]
# uses = ["markers", "lake_lock"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# sql = { from = "query.sql", doc = "the query; {role} stands for a source table, {{ and }} for braces" }
# sources = { from = "sources.tables", doc = "[role, schema, table] of each source table" }
# inputs = { from = "sources.files", doc = "lake-relative files the source tables were published from" }
# output = { from = "staging.file", doc = "lake-relative path of the Parquet file to write" }

import os
import re

import duckdb


def compute_query(
    lake_path: str,
    sql: str,
    sources: list[list[str]],
    inputs: list[str],
    output: str,
) -> None:
    """Write the rows of the query `sql` to lake_path/output as Parquet.

    Each `{role}` of the query becomes the quoted name "schema"."table" of that
    source table (a name, never spliced text); `{{` and `}}` are literal braces.
    The step is skipped when the file was made by the same query from the same
    versions of the source files (their markers join the step's key).
    """
    # output is "_staging/<dataset>/<asset>.parquet": name the asset in messages.
    asset = ".".join(os.path.splitext(os.path.normpath(output))[0].split(os.sep)[-2:])

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

    # The rendered query (the same in recipes/python/compute_query.py and
    # recipes/r/compute_query.R): the query is read from left to right as the tokens {{,
    # }}, {NAME} (NAME: any characters but braces, possibly none) and a single { or }.
    # {{ becomes {, }} becomes }, and {NAME} becomes "schema"."table" (each name in
    # double quotes, double quotes in it doubled) of the source whose role is exactly
    # NAME; a NAME that is no role, and a single brace, are errors. Then the white space
    # at its start and any mix of white space and semicolons at its end are removed
    # (white space: the characters of Python's str.isspace(), i.e. regular expression
    # \s; a semicolon cut there ends the statement or sits in a final -- comment, and
    # one followed by a comment stays), and it runs as COPY (\n<rendered>\n) TO '<file>'
    # (FORMAT parquet).
    rendered = re.sub(r"\{\{|\}\}|\{[^{}]*\}|[{}]", bind, sql)
    rendered = re.sub(r"[\s;]+\Z", "", rendered.lstrip())
    target = os.path.join(lake_path, output)
    files = [os.path.join(lake_path, path) for path in inputs]
    with producing(target, ["compute_query", rendered], files) as out:
        if out is None:
            return
        literal = "'" + out.part.replace("'", "''") + "'"
        with lake_lock(lake_path):
            # Lake files stay readable by the DuckDB 1.5 command-line program (the R
            # dialect's SQL engine): the setting decides the format of a new file.
            con = duckdb.connect(
                os.path.join(lake_path, "lake.duckdb"),
                config={"storage_compatibility_version": "v1.5.0"},
            )
            try:
                # A line break before the closing parenthesis ends a final -- comment.
                copy = f"COPY (\n{rendered}\n) TO {literal} (FORMAT parquet)"
                con.execute(copy).fetchall()
            except duckdb.Error as error:
                raise ValueError(
                    f"{asset}: the query failed: {error}; fix: correct the asset's sql "
                    f"(source tables: {roles}); the query run was:\n{rendered}"
                ) from None
            finally:
                con.close()
