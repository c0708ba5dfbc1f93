# [recipe]
# constraint = "FunctionApplied"
# language = "python"
# entry = "apply_function"
# summary = "The asset's Python function is called with each source table as a pyarrow.Table, and the table it returns is staged as a Parquet file."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "lake_lock"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# function = { from = "function.name", doc = "name of the function, defined at the top level of the program" }
# sources = { from = "sources.tables", doc = "[role, schema, table] of each source table: role is a parameter name" }
# inputs = { from = "sources.files", doc = "lake-relative files the source tables were published from" }
# output = { from = "staging.file", doc = "lake-relative path of the Parquet file to write" }

import inspect
import os

import duckdb
import pyarrow
import pyarrow.parquet


def apply_function(
    lake_path: str,
    function: str,
    sources: list[list[str]],
    inputs: list[str],
    output: str,
) -> None:
    """Call the function named `function` with one pyarrow.Table per source, by role,
    and write the table it returns (pyarrow.Table or pandas DataFrame) to
    lake_path/output as Parquet.

    The step is skipped when the file was made by the same function code from the
    same versions of the source files (their markers join the step's key).
    """
    # output is "_staging/<dataset>/<asset>.parquet": name the asset in messages.
    asset = ".".join(os.path.splitext(os.path.normpath(output))[0].split(os.sep)[-2:])
    compute = globals().get(function)
    if not callable(compute):
        raise RuntimeError(
            f"{asset}: the program defines no function {function}() at its top level; "
            "fix: generate the program again from the universe, which copies the "
            "function's source into it"
        )
    roles = [role for role, _, _ in sources]
    try:
        inspect.signature(compute).bind(**dict.fromkeys(roles))
    except TypeError:
        raise ValueError(
            f"{asset}: {function}{inspect.signature(compute)} cannot be called with "
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
                # A set's order changes with string hashing, from run to run.
                constants.append(sorted(repr(item) for item in constant))
            else:
                constants.append(repr(constant))
        return [code.co_code.hex(), constants, list(code.co_names)]

    # The function's source text decides the key: a changed function recomputes.
    # Without a source file (code made by exec), its compiled code stands for it.
    try:
        code = inspect.getsource(compute)
    except (OSError, TypeError):
        code = code_identity(compute.__code__)
    target = os.path.join(lake_path, output)
    files = [os.path.join(lake_path, path) for path in inputs]
    with producing(target, ["apply_function", function, code, sources], files) as out:
        if out is None:
            return

        def quote(identifier: str) -> str:
            return '"' + str(identifier).replace('"', '""') + '"'

        with lake_lock(lake_path):
            # Lake files stay readable by the DuckDB 1.5 command-line program (the R
            # dialect's SQL engine): the setting decides the format of a new file.
            con = duckdb.connect(
                os.path.join(lake_path, "lake.duckdb"),
                config={"storage_compatibility_version": "v1.5.0"},
            )
            try:
                tables = {
                    role: con.sql(
                        f"SELECT * FROM {quote(schema)}.{quote(name)}"
                    ).to_arrow_table()
                    for role, schema, name in sources
                }
            finally:
                con.close()
        try:
            result = compute(**tables)
        except Exception as error:
            error.add_note(f"{asset}: raised by {function}(), which computes it")
            raise
        kind = type(result)
        if isinstance(result, pyarrow.Table):
            table = result
        elif kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas"):
            table = pyarrow.Table.from_pandas(result, preserve_index=False)
        else:
            raise ValueError(
                f"{asset}: {function}() returned a {kind.__module__}.{kind.__qualname__}"
                "; fix: return a pyarrow.Table or a pandas DataFrame"
            )
        pyarrow.parquet.write_table(table, out.part)
