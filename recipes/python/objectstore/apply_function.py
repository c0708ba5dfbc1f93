# [recipe]
# constraint = "FunctionApplied"
# language = "python"
# entry = "objectstore_apply_function"
# summary = "The asset's Python function is called with each source table as a pyarrow.Table, and the table it returns is staged as a Parquet file."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# function = { from = "function.name", doc = "name of the function, defined at the top level of the program" }
# sources = { from = "sources.tables", doc = "[role, schema, table] of each source table: role is a parameter name" }
# inputs = { from = "sources.files", doc = "bucket keys of the files the source tables were published from" }
# output = { from = "staging.file", doc = "bucket key of the Parquet file to write" }

import inspect
import os

import pyarrow
import pyarrow.parquet


def objectstore_apply_function(
    config: dict,
    function: str,
    sources: list[list[str]],
    inputs: list[str],
    output: str,
) -> None:
    """Call the function named `function` with one pyarrow.Table per source, by role,
    and write the table it returns (pyarrow.Table or pandas DataFrame) to
    the bucket key `output` as Parquet.

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
    parts = ["apply_function", function, code, sources]
    with s3_producing(config, output, parts, inputs) as out:
        if out is None:
            return

        def quote(identifier: str) -> str:
            return '"' + str(identifier).replace('"', '""') + '"'

        con = s3_catalog(config, [table[1:] for table in sources], inputs)
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
