-- [recipe]
-- constraint = "ConvertedToTargetEncoding"
-- language = "sql"
-- entry = "convert_to_parquet"
-- summary = "The staged view is written to the lake as a Parquet file."
-- libraries = []
-- when = { engine = ["lake"], "target.format" = ["parquet"], "columns.contracted" = ["none"] }
--
-- [recipe.parameters]
-- table = { from = "staging.table", sql = "identifier", doc = "staging view to read" }
-- destination = { from = "target.file", sql = "lake_path", doc = "lake-relative path of the Parquet file to write" }

-- USE_TMP_FILE: DuckDB writes tmp_<name> beside the destination and
-- renames it into place when the file is complete, so no partial file is
-- left at the destination, even if the process is killed. A rerun rewrites
-- the file with the same rows. COPY does not create directories: the
-- runtime creates the destination's directory.
COPY (SELECT * FROM {table}) TO {destination}
(FORMAT parquet, USE_TMP_FILE true);
