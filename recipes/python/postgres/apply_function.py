# [recipe]
# constraint = "FunctionApplied"
# language = "python"
# entry = "postgres_apply_function"
# summary = "The asset's Python function is called with each source PostgreSQL table as a pyarrow.Table, and the table it returns is loaded with COPY into the staging table."
# libraries = ["psycopg", "pyarrow"]
# uses = ["markers", "postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# function = { from = "function.name", doc = "name of the function, defined at the top level of the program" }
# sources = { from = "sources.tables", doc = "[role, schema, table] of each source table: role is a parameter name" }
# table = { from = "staging.table", doc = "schema and name of the staging table to fill" }
# target = { from = "target.table", doc = "schema and name of the published table: when it holds these rows already, nothing is staged" }
# columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column, or None" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import inspect

import pyarrow


def postgres_apply_function(
    postgres: dict,
    function: str,
    sources: list[list[str]],
    table: list[str],
    target: list[str],
    columns: list[list] | None,
    contracts: list,
) -> None:
    """Call the function named `function` with one pyarrow.Table per source, by role,
    and load the table it returns (pyarrow.Table or pandas DataFrame) into the staging
    table. Skipped when the staging table was made by the same function code from the
    same versions of the source tables.
    """
    label = pg_label(table)
    compute = globals().get(function)
    if not callable(compute):
        raise RuntimeError(
            f"{label}: the program defines no function {function}() at its top level; "
            "fix: generate the program again from the universe, which copies the "
            "function's source into it"
        )
    roles = [role for role, _, _ in sources]
    try:
        inspect.signature(compute).bind(**dict.fromkeys(roles))
    except TypeError:
        raise ValueError(
            f"{label}: {function}{inspect.signature(compute)} cannot be called with "
            f"the source tables {', '.join(roles) or '(none)'} as keyword arguments; "
            "fix: name its parameters after the roles of source_asset_names"
        ) from None

    def code_identity(code) -> list:
        """Bytecode, constants and names of `code`, the same in every run."""
        constants = []
        for constant in code.co_consts:
            if inspect.iscode(constant):
                constants.append(code_identity(constant))
            elif isinstance(constant, frozenset):
                constants.append(sorted(repr(item) for item in constant))
            else:
                constants.append(repr(constant))
        return [code.co_code.hex(), constants, list(code.co_names)]

    try:
        code = inspect.getsource(compute)
    except (OSError, TypeError):
        code = code_identity(compute.__code__)
    with pg_connect(postgres, label) as connection:
        with connection.cursor() as cursor:
            versions = [pg_version(cursor, [s, t]) for _, s, t in sources]
            parts = ["postgres_apply_function", function, code, sources, versions]
            version = step_key(*parts)
            if pg_is_current(cursor, table, version):
                return
            if pg_published_from(cursor, table, target, columns, version, contracts):
                return
            # The source tables are collected in memory, as the lake's step does.
            tables = {role: pg_read_arrow(cursor, [s, t]) for role, s, t in sources}
            try:
                result = compute(**tables)
            except Exception as error:
                error.add_note(f"{label}: raised by {function}(), which computes it")
                raise
            kind = type(result)
            if kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas"):
                result = pyarrow.Table.from_pandas(result, preserve_index=False)
            elif not isinstance(result, pyarrow.Table):
                raise ValueError(
                    f"{label}: {function}() returned a {kind.__module__}."
                    f"{kind.__qualname__}; fix: return a pyarrow.Table or a pandas "
                    "DataFrame"
                )
            pg_load_arrow(cursor, table, result, version)
