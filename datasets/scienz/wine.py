"""UCI Wine: chemical analyses of 178 wines grown in one region of Italy, from three cultivars.

Each row is one wine: which of three cultivars it comes from, then thirteen constituents
found by chemical analysis (Forina et al., PARVUS). The classic small
classification problem: predict the cultivar from the chemistry. The file is plain
comma-separated values with no header line; the cultivar (1, 2 or 3) comes first.

Source: https://archive.ics.uci.edu/dataset/109/wine; file at
    https://archive.ics.uci.edu/ml/machine-learning-databases/wine/wine.data
Licence: CC BY 4.0 (UCI Machine Learning Repository); cite Aeberhard, S. and Forina, M.
    (1991), Wine, https://doi.org/10.24432/C5PC7J
Size: 178 rows (59, 71 and 48 per cultivar), 14 columns, about 11 KB.
Schema: cultivar (Int64), then alcohol, malic_acid, ash, alcalinity_of_ash, magnesium,
    total_phenols, flavanoids, nonflavanoid_phenols, proanthocyanins, color_intensity,
    hue, od280_od315 (OD280/OD315 of diluted wines) and proline, each Float64.
Checksum: none published by UCI; sha256 is left None.
Samples:
    wine: 1,14.23,1.71,2.43,15.6,127,2.8,3.06,.28,2.29,5.64,1.04,3.92,1065
"""

from __future__ import annotations

from aorist import (
    CSVEncoding,
    DataSet,
    Float64,
    Int64,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

CONSTITUENTS = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315",
    "proline",
]

wine_row = RowStruct(
    name="wine_row",
    attributes=[
        Int64("cultivar", comment="which of three cultivars the wine comes from: 1, 2 or 3"),
        *(Float64(name) for name in CONSTITUENTS),
    ],
)

wine = DataSet(
    name="wine",
    description="UCI Wine: 13 chemical constituents of 178 Italian wines of three cultivars",
    datum_templates=[wine_row],
    assets=[
        StaticDataTable(
            name="wine",
            schema=default_tabular_schema(wine_row),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://archive.ics.uci.edu/ml/machine-learning-databases/wine/wine.data"
                    ),
                    encoding=CSVEncoding(),
                    sha256=None,
                )
            ),
            tag="wine",
        )
    ],
)
