from aorist import EndpointConfig, PostgresConfig, PostgresLocation, PostgresStorage, dag

from _common import universe

postgres = PostgresConfig(
    server="127.0.0.1", port=5432, username="lake", password_env="PG_PASSWORD", database="lake"
)
target = PostgresStorage(location=PostgresLocation(database="other", schema="graphs"))
dag(universe(target=target, endpoints=EndpointConfig(postgres=postgres)), ["AllAssetsComputed"])
