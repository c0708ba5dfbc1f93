from aorist import EndpointConfig, MinioConfig, dag

from _common import universe

minio = MinioConfig(
    server="127.0.0.1",
    port=9000,
    bucket="lake",
    access_key_env="MINIO_KEY",
    secret_key_env="MINIO_SECRET",
)
dag(universe(endpoints=EndpointConfig(minio=minio)), ["AllAssetsComputed"])
