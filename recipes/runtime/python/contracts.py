# [helper]
# name = "contracts"
# language = "python"
# summary = "Before a table is published, every contract declared on its columns is checked in one pass over its new rows; a violation fails the step, naming the table, the column, the contract, the number of rows and up to five examples."
# libraries = ["duckdb", "pyarrow"]

import duckdb
import pyarrow.dataset

# A contract is [column, contract, value, label]: min, max, accepted_values, regex or
# unique, and the label the message prints (`min=0`, `regex="^[A-Z]{2}$"`). A NULL
# breaks none of them (`nullable` is checked while the rows are converted).


def contract_sql_literal(value) -> str:
    """A DuckDB literal of a contract's value."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def contract_breaks(column: str, contract: str, value) -> str:
    """The condition true for a row that breaks the contract (None for `unique`)."""
    quoted = '"' + str(column).replace('"', '""') + '"'
    if contract == "min":
        return f"{quoted} < {contract_sql_literal(value)}"
    if contract == "max":
        return f"{quoted} > {contract_sql_literal(value)}"
    if contract == "accepted_values":
        listed = ", ".join(contract_sql_literal(v) for v in value)
        return f"{quoted} NOT IN ({listed})"
    if contract == "regex":
        return f"NOT regexp_full_match({quoted}, {contract_sql_literal(value)})"
    raise ValueError(f"unknown contract {contract!r}")


def check_contracts(con, relation: str, label: str, contracts: list) -> None:
    """Check every contract on `relation` (a DuckDB table expression) in one pass;
    on a violation, fail naming each contract broken, with up to five examples (a
    second query per broken contract)."""
    if not contracts:
        return
    counts = []
    for column, contract, value, _ in contracts:
        quoted = '"' + str(column).replace('"', '""') + '"'
        if contract == "unique":
            counts.append(f"count({quoted}) - count(DISTINCT {quoted})")
        else:
            counts.append(
                f"count(*) FILTER (WHERE {contract_breaks(column, contract, value)})"
            )
    found = con.execute(f"SELECT {', '.join(counts)} FROM {relation}").fetchall()[0]
    broken = []
    for (column, contract, value, shown), count in zip(contracts, found, strict=True):
        if not count:
            continue
        quoted = '"' + str(column).replace('"', '""') + '"'
        if contract == "unique":
            query = (
                f"SELECT {quoted} FROM {relation} WHERE {quoted} IS NOT NULL"
                f" GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 5"
            )
        else:
            condition = contract_breaks(column, contract, value)
            query = (
                f"SELECT DISTINCT {quoted} FROM {relation} WHERE {condition}"
                " ORDER BY 1 LIMIT 5"
            )
        examples = ", ".join(
            "'" + str(row[0])[:80] + "'" for row in con.execute(query).fetchall()
        )
        rows = "1 row breaks" if count == 1 else f"{count} rows break"
        column_text = '"' + str(column).replace('"', '""') + '"'
        broken.append(
            f"{label}: column {column_text}: {rows} {shown} (examples: {examples})"
        )
    if broken:
        raise ValueError(
            "; ".join(broken) + "; fix: correct the source, or the contract declared "
            "on the attribute; nothing was published, the table keeps its previous "
            "version"
        )


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
        check_contracts(con, relation, label, contracts)
    finally:
        con.close()
