"""UCI Abalone: physical measurements of 4,177 abalone, with their age in shell rings.

Each row is one abalone from Tasmania (Nash et al., 1994): its sex (M, F, or I for
infant), seven measurements, and the number of rings in its shell (age in years is
rings + 1.5). The file is plain comma-separated values with no header line. UCI scaled
the continuous measurements by dividing them by 200 (lengths in units of 200 mm,
weights in units of 200 g).

Source: https://archive.ics.uci.edu/dataset/1/abalone; file at
    https://archive.ics.uci.edu/ml/machine-learning-databases/abalone/abalone.data
Licence: CC BY 4.0 (UCI Machine Learning Repository); cite Nash, W. et al. (1994),
    Abalone, https://doi.org/10.24432/C55C7W
Size: 4,177 rows, 9 columns, about 190 KB.
Schema: sex (Categorical), length, diameter, height, whole_weight, shucked_weight,
    viscera_weight, shell_weight (Float64), rings (Count).
Checksum: none published by UCI; sha256 is left None.
Samples:
    abalone: M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15,15
"""

from __future__ import annotations

from aorist import (
    Categorical,
    Count,
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

specimen = RowStruct(
    name="specimen",
    attributes=[
        Categorical("sex", comment="M (male), F (female) or I (infant)"),
        Float64("length", comment="longest shell measurement, mm / 200"),
        Float64("diameter", comment="perpendicular to length, mm / 200"),
        Float64("height", comment="with meat in shell, mm / 200"),
        Float64("whole_weight", comment="whole abalone, g / 200"),
        Float64("shucked_weight", comment="weight of meat, g / 200"),
        Float64("viscera_weight", comment="gut weight after bleeding, g / 200"),
        Float64("shell_weight", comment="after being dried, g / 200"),
        Count("rings", comment="rings in the shell; age in years is rings + 1.5"),
    ],
)

abalone = DataSet(
    name="abalone",
    description="UCI Abalone: sex, size, weights and shell rings of 4,177 abalone",
    datum_templates=[specimen],
    assets=[
        StaticDataTable(
            name="abalone",
            schema=default_tabular_schema(specimen),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://archive.ics.uci.edu/ml/machine-learning-databases/abalone/abalone.data"
                    ),
                    encoding=CSVEncoding(),
                    sha256=None,
                )
            ),
            tag="abalone",
        )
    ],
)
