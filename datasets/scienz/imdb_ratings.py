r"""IMDb title ratings: the weighted average rating and vote count of every rated title.

Each row is one title of IMDb (film, episode, series, short, ...) that has votes: its
IMDb id (tconst, e.g. tt0111161), the weighted average of its users' ratings (1 to 10)
and the number of votes. IMDb refreshes the file daily. It is gzip-compressed,
tab-separated, UTF-8, with one header line (tconst, averageRating, numVotes); IMDb
writes \N for a missing value, which this file does not contain.

Source: https://developer.imdb.com/non-commercial-datasets/; file at
    https://datasets.imdbws.com/title.ratings.tsv.gz
Licence: IMDb Non-Commercial Licensing: personal and non-commercial use only, with
    attribution ("Information courtesy of IMDb (https://www.imdb.com). Used with
    permission."); see https://help.imdb.com/article/imdb/general-information/can-i-use-imdb-data-in-my-software/
Size: about 1.5 million rows, 3 columns, about 7 MB compressed (grows daily).
Schema: tconst (KeyStringIdentifier), average_rating (Float64), num_votes (Count).
Checksum: none published by IMDb (the file changes daily); sha256 is left None.
Samples:
    title_ratings: tt0000001\t5.7\t2069
"""

from __future__ import annotations

from aorist import (
    Count,
    CSVHeader,
    DataSet,
    Float64,
    GzipCompression,
    KeyStringIdentifier,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    WebLocation,
    default_tabular_schema,
)

rating = RowStruct(
    name="rating",
    attributes=[
        KeyStringIdentifier("tconst", comment="IMDb title id, e.g. tt0111161"),
        Float64("average_rating", comment="averageRating: weighted average of user ratings"),
        Count("num_votes", comment="numVotes: votes the title has received"),
    ],
)

imdb_ratings = DataSet(
    name="imdb_ratings",
    description="IMDb title ratings: average user rating and vote count per title (daily)",
    datum_templates=[rating],
    assets=[
        StaticDataTable(
            name="title_ratings",
            schema=default_tabular_schema(rating),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://datasets.imdbws.com/title.ratings.tsv.gz"
                    ),
                    encoding=TSVEncoding(
                        compression=GzipCompression(), header=CSVHeader(num_lines=1)
                    ),
                    sha256=None,
                )
            ),
            tag="imdb",
        )
    ],
)
