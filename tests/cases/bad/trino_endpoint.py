from aorist import EndpointConfig, TrinoConfig, dag

from _common import universe

trino = TrinoConfig(server="127.0.0.1", http_port=8080, user="lake")
dag(universe(endpoints=EndpointConfig(trino=trino)), ["AllAssetsComputed"])
