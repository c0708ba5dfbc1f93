-- [recipe]
-- constraint = "TablePublished"
-- language = "sql"
-- entry = "publish_table"
-- summary = "The table is published in the lake's DuckDB database as a view over its Parquet file, replacing an older version atomically."
-- libraries = []
-- when = { engine = ["lake"], "target.format" = ["parquet"] }
--
-- [recipe.parameters]
-- schema = { from = "target.schema", sql = "identifier", doc = "schema of the table" }
-- table = { from = "target.table", sql = "identifier", doc = "schema and name of the table to create" }
-- source = { from = "target.file", sql = "lake_path", doc = "lake-relative path of the Parquet file" }

-- The view is replaced in one transaction: readers see the old rows or
-- the new, never a mix or no table; the lake holds the rows once, in the
-- Parquet file. A rerun points the view at the same file and changes
-- nothing. (A table of that name, from an older aorist, must be dropped
-- first: the Python and R recipes do that.)
BEGIN TRANSACTION;
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({source});
COMMIT;
