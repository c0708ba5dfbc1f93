"""UCI Breast Cancer Wisconsin (Diagnostic): 569 breast masses, benign or malignant.

Each row is one fine needle aspirate of a breast mass (Wolberg, Street and Mangasarian,
1995): an id, the diagnosis (M malignant, B benign), then ten features of the cell
nuclei in the digitised image (radius, texture, perimeter, area, smoothness,
compactness, concavity, concave points, symmetry, fractal dimension), each given three
times: the mean over the nuclei, its standard error, and the "worst" (mean of the three
largest values). The file (wdbc.data) is comma-separated with no header line, in the
order: id, diagnosis, the ten means, the ten standard errors, the ten worst values.

Source: https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic; file at
    https://archive.ics.uci.edu/ml/machine-learning-databases/breast-cancer-wisconsin/wdbc.data
Licence: CC BY 4.0 (UCI Machine Learning Repository); cite Wolberg, W. et al. (1995),
    Breast Cancer Wisconsin (Diagnostic), https://doi.org/10.24432/C5DW2B
Size: 569 rows (357 benign, 212 malignant), 32 columns, about 125 KB.
Schema: id (KeyInt64Identifier), diagnosis (Categorical), then <feature>_mean,
    <feature>_se and <feature>_worst (Float64) for radius, texture, perimeter, area,
    smoothness, compactness, concavity, concave_points, symmetry, fractal_dimension.
Checksum: none published by UCI; sha256 is left None.
Samples:
    wdbc: 842302,M,17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189
"""  # noqa: E501

from __future__ import annotations

from aorist import (
    Categorical,
    CSVEncoding,
    DataSet,
    Float64,
    KeyInt64Identifier,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

FEATURES = [
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave_points",
    "symmetry",
    "fractal_dimension",
]
STATISTICS = {
    "mean": "mean over the nuclei in the image",
    "se": "standard error of the mean",
    "worst": "mean of the three largest values",
}

mass = RowStruct(
    name="mass",
    attributes=[
        KeyInt64Identifier("id", comment="sample id number"),
        Categorical("diagnosis", comment="M (malignant) or B (benign)"),
        *(
            Float64(f"{feature}_{statistic}", comment=f"{feature.replace('_', ' ')}: {what}")
            for statistic, what in STATISTICS.items()
            for feature in FEATURES
        ),
    ],
)

breast_cancer = DataSet(
    name="breast_cancer",
    description="UCI Breast Cancer Wisconsin (Diagnostic): 30 nucleus features of 569 masses",
    datum_templates=[mass],
    assets=[
        StaticDataTable(
            name="wdbc",
            schema=default_tabular_schema(mass),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://archive.ics.uci.edu/ml/machine-learning-databases/breast-cancer-wisconsin/wdbc.data"
                    ),
                    encoding=CSVEncoding(),
                    sha256=None,
                )
            ),
            tag="breast_cancer",
        )
    ],
)
