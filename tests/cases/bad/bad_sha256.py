from aorist import RemoteStorage, TSVEncoding, WebLocation

RemoteStorage(
    location=WebLocation(address="https://example.org/x"), encoding=TSVEncoding(), sha256="abc"
)
