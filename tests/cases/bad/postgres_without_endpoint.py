from aorist import PostgresLocation, PostgresStorage, dag

from _common import universe

target = PostgresStorage(location=PostgresLocation(database="lake", schema="graphs"))
dag(universe(target=target), ["AllAssetsComputed"])
