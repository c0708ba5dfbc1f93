"""UCI Iris: Fisher's measurements of 150 iris flowers, 50 of each of three species.

Each row is one flower: sepal length and width, petal length and width (centimetres),
and its species (Iris-setosa, Iris-versicolor or Iris-virginica). The file is plain
comma-separated values with no header line, and ends with an empty line, which the
lake's CSV reader skips. UCI notes that rows 35 and 38 differ from Fisher's paper (the
corrected rows are in bezdekIris.data beside it); this entry keeps the file as published.

Source: https://archive.ics.uci.edu/dataset/53/iris; file at
    https://archive.ics.uci.edu/ml/machine-learning-databases/iris/iris.data
Licence: CC BY 4.0 (UCI Machine Learning Repository); cite Fisher, R. A. (1936), Iris,
    https://doi.org/10.24432/C56C76
Size: 150 rows, 5 columns, about 4.5 KB.
Schema: sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm (Float64),
    species (Categorical).
Checksum: none published by UCI; sha256 is left None.
Samples:
    iris: 5.1,3.5,1.4,0.2,Iris-setosa
"""

from __future__ import annotations

from aorist import (
    Categorical,
    CSVEncoding,
    DataSet,
    Float64,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

flower = RowStruct(
    name="flower",
    attributes=[
        Float64("sepal_length_cm"),
        Float64("sepal_width_cm"),
        Float64("petal_length_cm"),
        Float64("petal_width_cm"),
        Categorical("species", comment="Iris-setosa, Iris-versicolor or Iris-virginica"),
    ],
)

iris = DataSet(
    name="iris",
    description="UCI Iris: sepal and petal measurements of 150 flowers of three species",
    datum_templates=[flower],
    assets=[
        StaticDataTable(
            name="iris",
            schema=default_tabular_schema(flower),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://archive.ics.uci.edu/ml/machine-learning-databases/iris/iris.data"
                    ),
                    encoding=CSVEncoding(),
                    sha256=None,
                )
            ),
            tag="iris",
        )
    ],
)
