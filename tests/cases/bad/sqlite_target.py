from aorist import SQLiteLocation, SQLiteStorage, dag

from _common import universe

dag(
    universe(target=SQLiteStorage(location=SQLiteLocation(file_name="lab.db"))),
    ["AllAssetsComputed"],
)
