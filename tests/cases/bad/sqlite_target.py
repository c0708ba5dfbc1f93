from _common import universe
from aorist import SQLiteLocation, SQLiteStorage, dag

dag(
    universe(target=SQLiteStorage(location=SQLiteLocation(file_name="lab.db"))),
    ["AllAssetsComputed"],
)
