"""Forest Covertype: cartographic variables of 581,012 30 m cells of Colorado forest.

Each row is one 30 x 30 metre cell of the Roosevelt National Forest (Blackard and
Dean, 1998): ten measurements (elevation, aspect, slope, distances to water, roads and
fire points, hillshade at three times of day), four binary wilderness-area columns,
forty binary soil-type columns, and the forest cover type (1 to 7, e.g. 1 Spruce/Fir,
2 Lodgepole Pine). The file is gzip-compressed comma-separated integers with no header.

This entry reads the copy of UCI's covtype.data.gz that scikit-learn keeps on figshare
for sklearn.datasets.fetch_covtype, because scikit-learn publishes its sha256: the
download is verified. The UCI original is
https://archive.ics.uci.edu/ml/machine-learning-databases/covtype/covtype.data.gz.

Source: https://archive.ics.uci.edu/dataset/31/covertype; file at
    https://ndownloader.figshare.com/files/5976039 (covtype.data.gz)
Licence: CC BY 4.0 (UCI Machine Learning Repository); cite Blackard, J. (1998),
    Covertype, https://doi.org/10.24432/C50K5N
Size: 581,012 rows, 55 columns, about 11 MB compressed (75 MB uncompressed).
Schema: elevation, aspect, slope, horizontal_distance_to_hydrology,
    vertical_distance_to_hydrology, horizontal_distance_to_roadways, hillshade_9am,
    hillshade_noon, hillshade_3pm, horizontal_distance_to_fire_points (Int64);
    wilderness_area_1 to _4 and soil_type_1 to _40 (Boolean, written 0 or 1);
    cover_type (Int64, 1 to 7).
Checksum: sha256 614360d0257557dd1792834a85a1cdebfadc3c4f30b011d56afee7ffb5b15771, as
    published by scikit-learn for this figshare file (ARCHIVE.checksum in
    sklearn/datasets/_covtype.py).
Samples:
    covtype: 2596,51,3,258,0,510,221,232,148,6279,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,5
"""  # noqa: E501

from __future__ import annotations

from aorist import (
    Boolean,
    CSVEncoding,
    DataSet,
    GzipCompression,
    Int64,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

MEASUREMENTS = {
    "elevation": "metres",
    "aspect": "degrees azimuth",
    "slope": "degrees",
    "horizontal_distance_to_hydrology": "metres to the nearest surface water",
    "vertical_distance_to_hydrology": "metres to the nearest surface water",
    "horizontal_distance_to_roadways": "metres to the nearest roadway",
    "hillshade_9am": "hillshade index (0 to 255) at 9am on the summer solstice",
    "hillshade_noon": "hillshade index (0 to 255) at noon on the summer solstice",
    "hillshade_3pm": "hillshade index (0 to 255) at 3pm on the summer solstice",
    "horizontal_distance_to_fire_points": "metres to the nearest wildfire ignition point",
}

cell = RowStruct(
    name="cell",
    attributes=[
        *(Int64(name, comment=unit) for name, unit in MEASUREMENTS.items()),
        *(Boolean(f"wilderness_area_{i}") for i in range(1, 5)),
        *(Boolean(f"soil_type_{i}") for i in range(1, 41)),
        Int64("cover_type", comment="forest cover type, 1 to 7"),
    ],
)

covtype = DataSet(
    name="covtype",
    description="Forest Covertype: cartographic variables and cover type of 581,012 cells",
    datum_templates=[cell],
    assets=[
        StaticDataTable(
            name="covtype",
            schema=default_tabular_schema(cell),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address="https://ndownloader.figshare.com/files/5976039"),
                    encoding=CSVEncoding(compression=GzipCompression()),
                    sha256="614360d0257557dd1792834a85a1cdebfadc3c4f30b011d56afee7ffb5b15771",
                )
            ),
            tag="covtype",
        )
    ],
)
