-- [recipe]
-- constraint = "TablePublished"
-- language = "sql"
-- entry = "publish_table"
-- summary = "The target Parquet file is loaded into a table of the lake's DuckDB database, replacing an older version atomically."
-- libraries = []
-- when = { engine = ["lake"], "target.format" = ["parquet"] }
--
-- [recipe.parameters]
-- schema = { from = "target.schema", sql = "identifier", doc = "schema of the table" }
-- table = { from = "target.table", sql = "identifier", doc = "schema and name of the table to create" }
-- source = { from = "target.file", sql = "lake_path", doc = "lake-relative path of the Parquet file" }

-- The table is replaced in one transaction: readers see the old rows or
-- the new, never a mix or no table. A rerun reloads the same file and
-- changes nothing.
BEGIN TRANSACTION;
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet({source});
COMMIT;
