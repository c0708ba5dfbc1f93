"""scienz: a catalog of public datasets declared for aorist.

Each module ``scienz/<name>.py`` declares one dataset as an ``aorist.DataSet`` named
``<name>``: where its files are, how they are encoded, and the precise schema of every
table. Its module docstring is the dataset's card (what the data is, Source, Licence,
Size, Schema, Checksum, Samples)::

    from aorist import CSVEncoding, HiveTableStorage, MinioLocation, ORCEncoding, Universe, dag
    from scienz import snap

    local = HiveTableStorage(location=MinioLocation(name="snap"), encoding=ORCEncoding())
    replicated = snap.replicate_to_local(local, "tmp/snap", CSVEncoding())
    print(dag(Universe(name="lab", datasets=[replicated]), ["AllAssetsComputed"], "python"))

``DATASETS`` maps every name to its DataSet and ``card(name)`` gives its card.
``mirror(dataset, prefixes)`` points a dataset at a mirror (a proxy, a local copy, a test
server) by rewriting URL prefixes, and ``check(module)`` lists what is wrong with a
catalog entry.
"""

from __future__ import annotations

import importlib
import inspect

from aorist import DataSet
from scienz._check import check
from scienz._mirror import mirror
from scienz.abalone import abalone
from scienz.adult import adult
from scienz.breast_cancer import breast_cancer
from scienz.covtype import covtype
from scienz.geonames_cities import geonames_cities
from scienz.gharchive import gharchive
from scienz.imdb_ratings import imdb_ratings
from scienz.iris import iris
from scienz.snap import snap
from scienz.titanic import titanic
from scienz.wine import wine

__version__ = "0.1.0"

DATASETS: dict[str, DataSet] = {
    dataset.name: dataset
    for dataset in (
        abalone,
        adult,
        breast_cancer,
        covtype,
        geonames_cities,
        gharchive,
        imdb_ratings,
        iris,
        snap,
        titanic,
        wine,
    )
}


def card(name: str) -> str:
    """The doc header of the catalog entry ``name``: what the data is, Source, Licence, ..."""
    if name not in DATASETS:
        raise KeyError(f"scienz has no dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    module = importlib.import_module(f"scienz.{name}")
    return inspect.cleandoc(module.__doc__ or "")


__all__ = ["DATASETS", "card", "check", "mirror", *DATASETS]
