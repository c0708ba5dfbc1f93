from aorist import EndpointConfig, MinioConfig, SparkConfig, dag

from _common import universe

minio = MinioConfig(
    server="127.0.0.1",
    port=8333,
    bucket="lake",
    access_key_env="S3_KEY",
    secret_key_env="S3_SECRET",
)
endpoints = EndpointConfig(minio=minio, spark=SparkConfig())
dag(universe(endpoints=endpoints), ["AllAssetsComputed"])
