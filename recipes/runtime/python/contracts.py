# [helper]
# name = "contracts"
# language = "python"
# summary = "Before a table is published, every contract declared on its columns is checked in one pass over its new rows; a violation fails the step, naming the table, the column, the contract, the number of rows and up to five examples."

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


def contract_breaks(column: str, contract: str, value, dialect: str = "duckdb") -> str:
    """The condition true for a row that breaks the contract (not for `unique`), in
    DuckDB's or PostgreSQL's SQL; the regex matches the whole value."""
    quoted = '"' + str(column).replace('"', '""') + '"'
    if contract == "min":
        return f"{quoted} < {contract_sql_literal(value)}"
    if contract == "max":
        return f"{quoted} > {contract_sql_literal(value)}"
    if contract == "accepted_values":
        listed = ", ".join(contract_sql_literal(v) for v in value)
        return f"{quoted} NOT IN ({listed})"
    if contract == "regex" and dialect == "postgres":
        anchored = contract_sql_literal(f"^(?:{value})$")
        return f"NOT ({quoted}::text ~ {anchored})"
    if contract == "regex":
        return f"NOT regexp_full_match({quoted}, {contract_sql_literal(value)})"
    raise ValueError(f"unknown contract {contract!r}")


def check_contracts(
    run, relation: str, label: str, contracts: list, dialect: str = "duckdb"
) -> None:
    """Check every contract on `relation` (a table expression) in one pass, through
    `run(query)` (its rows); on a violation, fail naming each contract broken, with
    up to five examples (a second query per broken contract)."""
    if not contracts:
        return
    counts = []
    for column, contract, value, _ in contracts:
        quoted = '"' + str(column).replace('"', '""') + '"'
        if contract == "unique":
            counts.append(f"count({quoted}) - count(DISTINCT {quoted})")
        else:
            condition = contract_breaks(column, contract, value, dialect)
            counts.append(f"count(*) FILTER (WHERE {condition})")
    found = run(f"SELECT {', '.join(counts)} FROM {relation}")[0]
    broken = []
    for (column, contract, value, shown), count in zip(contracts, found, strict=True):
        if not count:
            continue
        quoted = '"' + str(column).replace('"', '""') + '"'
        if contract == "unique":
            query = (
                f"SELECT {quoted} FROM {relation} WHERE {quoted} IS NOT NULL"
                " GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 5"
            )
        else:
            condition = contract_breaks(column, contract, value, dialect)
            query = (
                f"SELECT DISTINCT {quoted} FROM {relation} WHERE {condition}"
                " ORDER BY 1 LIMIT 5"
            )
        examples = ", ".join("'" + str(row[0])[:80] + "'" for row in run(query))
        rows = "1 row breaks" if count == 1 else f"{count} rows break"
        broken.append(
            f"{label}: column {quoted}: {rows} {shown} (examples: {examples})"
        )
    if broken:
        raise ValueError(
            "; ".join(broken) + "; fix: correct the source, or the contract declared "
            "on the attribute; nothing was published, the table keeps its previous "
            "version"
        )
