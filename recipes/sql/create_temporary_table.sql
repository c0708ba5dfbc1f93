-- [recipe]
-- constraint = "TemporaryTableCreated"
-- language = "sql"
-- entry = "create_temporary_table"
-- summary = "A staging view reads the staged CSV file with the declared column names and types."
-- libraries = []
--
-- [recipe.parameters]
-- schema = { from = "staging.schema", sql = "identifier", doc = "staging schema" }
-- table = { from = "staging.table", sql = "identifier", doc = "staging view to create" }
-- file = { from = "staging.file", sql = "lake_path", doc = "staged header-less CSV file" }
-- columns = { from = "columns.duckdb", sql = "struct", doc = "column names and DuckDB types" }

CREATE SCHEMA IF NOT EXISTS {schema};
CREATE OR REPLACE VIEW {table} AS
SELECT * FROM read_csv(
    {file},
    header = false,
    delim = ',',
    quote = '"',
    escape = '"',
    columns = {columns}
);
