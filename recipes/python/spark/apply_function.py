# [recipe]
# constraint = "FunctionApplied"
# language = "python"
# entry = "spark_apply_function"
# summary = "The asset's Python function is called with each source Spark table collected as a pyarrow.Table, and the table it returns is staged as Parquet in the warehouse."
# libraries = ["pyarrow", "pyspark"]
# uses = ["markers", "spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# function = { from = "function.name", doc = "name of the function, defined at the top level of the program" }
# sources = { from = "sources.tables", doc = "[role, database, table] of each source table: role is a parameter name" }
# inputs = { from = "sources.files", doc = "warehouse-relative directories the source tables were published from" }
# output = { from = "staging.file", doc = "warehouse-relative Parquet directory to write" }

import inspect

import pyarrow


def spark_apply_function(
    spark: dict,
    function: str,
    sources: list[list[str]],
    inputs: list[str],
    output: str,
) -> None:
    """Call the function named `function` with one pyarrow.Table per source, by role,
    and stage the table it returns (pyarrow.Table or pandas DataFrame) as Parquet.

    The source tables are collected to the driver (a function computes on tables that
    fit in one process, as on the lake). The step is skipped when the directory was
    made by the same function code from the same versions of the source tables.
    """
    asset = ".".join(output.rstrip("/").rsplit(".", 1)[0].split("/")[-2:])
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
                constants.append(sorted(repr(item) for item in constant))
            else:
                constants.append(repr(constant))
        return [code.co_code.hex(), constants, list(code.co_names)]

    try:
        code = inspect.getsource(compute)
    except (OSError, TypeError):
        code = code_identity(compute.__code__)
    session = spark_session(spark)
    target = spark_location(spark, output)
    files = [spark_location(spark, path) for path in inputs]
    markers = [spark_marker(session, path) for path in files]
    key = step_key("spark_apply_function", function, code, sources, markers)
    if spark_is_current(session, target, key):
        return
    tables = {
        role: spark_read_arrow(session, [schema, name])
        for role, schema, name in sources
    }
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
    staged = spark_temporary(target)
    try:
        spark_write_arrow(session, table, staged)
        spark_put_directory(session, staged, target, key, files)
    except BaseException:
        spark_delete(session, staged)
        raise
