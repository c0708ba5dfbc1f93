# [helper]
# name = "contracts_in_files"
# language = "python"
# summary = "The contracts of a table checked on the rows of its new Parquet or ORC file, with DuckDB, before the file replaces the old one."
# libraries = ["duckdb", "pyarrow"]
# uses = ["contracts"]

import duckdb
import pyarrow.dataset


def check_contracts_in_file(path: str, file_format: str, label: str, contracts: list):
    """check_contracts on the rows of a Parquet or ORC file (DuckDB reads no ORC:
    pyarrow scans it)."""
    if not contracts:
        return
    con = duckdb.connect(config={"memory_limit": "256MB"})
    try:
        if file_format == "parquet":
            relation = "read_parquet('" + path.replace("'", "''") + "')"
        else:
            con.register(
                "__aorist_checked", pyarrow.dataset.dataset(path, format="orc")
            )
            relation = "__aorist_checked"
        check_contracts(
            lambda query: con.execute(query).fetchall(), relation, label, contracts
        )
    finally:
        con.close()
