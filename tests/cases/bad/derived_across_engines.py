from aorist import (
    ComputedFromLocalData,
    EndpointConfig,
    PostgresConfig,
    PostgresLocation,
    PostgresStorage,
    StaticDataTable,
    UndefinedTabularSchema,
    dag,
)

from _common import asset, universe

postgres = PostgresConfig(
    server="127.0.0.1", port=5432, username="lake", password_env="PG_PASSWORD", database="lake"
)
hubs = StaticDataTable(
    name="hubs",
    schema=UndefinedTabularSchema(),
    setup=ComputedFromLocalData(
        source_asset_names={"edges": "edges"},
        target=PostgresStorage(location=PostgresLocation(database="lake", schema="graphs")),
        sql="SELECT from_id FROM {edges}",
    ),
)
dag(
    universe(assets=[asset(), hubs], endpoints=EndpointConfig(postgres=postgres)),
    ["AllAssetsComputed"],
)
