from aorist import LocalFileSystemLocation

LocalFileSystemLocation(path="data/edges\x00.tsv")
