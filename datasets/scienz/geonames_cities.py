r"""GeoNames cities15000: every city of the GeoNames gazetteer with more than 15,000 people.

Each row is one populated place (GeoNames feature class P) with a population above
15,000, or a capital: its GeoNames id, names (UTF-8, ASCII, and alternate names joined
by commas), WGS84 latitude and longitude, feature class and code (e.g. PPLA, seat of a
first-order division), country and administrative codes, population, elevation, a
digital elevation model value, IANA time zone and the date of its last change. GeoNames
regenerates the file daily. The download is a zip archive holding one file,
cities15000.txt: tab-separated UTF-8 with no header line. Empty fields mean unknown.

Source: https://download.geonames.org/export/dump/ (the 'geoname' table of readme.txt
    there lists the columns); file at https://download.geonames.org/export/dump/cities15000.zip
Licence: CC BY 4.0 (GeoNames, https://www.geonames.org/).
Size: tens of thousands of rows (the count grows; GeoNames' readme says 'ca 20.000'),
    19 columns; a zip archive of a few megabytes.
Schema: geonameid (KeyInt64Identifier), name, asciiname (FreeText), alternatenames
    (FreeText, nullable), latitude (FloatLatitude), longitude (FloatLongitude),
    feature_class, feature_code, country_code (Categorical), cc2 (FreeText, nullable),
    admin1_code to admin4_code (StringIdentifier, nullable), population (Count),
    elevation (Int64, nullable), dem (Int64), timezone (Categorical),
    modification_date (DateString).
Checksum: none published by GeoNames (the file changes daily); sha256 is left None.
Samples:
    cities15000: 3040051\tles Escaldes\tles Escaldes\tEscaldes,Escaldes-Engordany,Les Escaldes\t42.50729\t1.53414\tP\tPPLA\tAD\t\t08\t\t\t\t15853\t\t1033\tEurope/Andorra\t2008-10-15
"""  # noqa: E501

from __future__ import annotations

from aorist import (
    Categorical,
    Count,
    DataSet,
    DateString,
    FloatLatitude,
    FloatLongitude,
    FreeText,
    Int64,
    KeyInt64Identifier,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    StringIdentifier,
    TSVEncoding,
    WebLocation,
    ZipCompression,
    default_tabular_schema,
)

place = RowStruct(
    name="place",
    attributes=[
        KeyInt64Identifier("geonameid", comment="id of the record in the GeoNames database"),
        FreeText("name", comment="name of the place (UTF-8)"),
        FreeText("asciiname", comment="name in plain ASCII"),
        FreeText("alternatenames", comment="other names, comma-separated", nullable=True),
        FloatLatitude("latitude", comment="decimal degrees (WGS84)"),
        FloatLongitude("longitude", comment="decimal degrees (WGS84)"),
        Categorical("feature_class", comment="P for populated places"),
        Categorical("feature_code", comment="e.g. PPL, PPLA, PPLC (capital)"),
        Categorical("country_code", comment="ISO-3166 two-letter country code"),
        FreeText("cc2", comment="alternate country codes, comma-separated", nullable=True),
        StringIdentifier("admin1_code", comment="first-order division code", nullable=True),
        StringIdentifier("admin2_code", comment="second-order division code", nullable=True),
        StringIdentifier("admin3_code", comment="third-order division code", nullable=True),
        StringIdentifier("admin4_code", comment="fourth-order division code", nullable=True),
        Count("population"),
        Int64("elevation", comment="metres", nullable=True),
        Int64("dem", comment="digital elevation model (SRTM3 or GTOPO30), metres"),
        Categorical("timezone", comment="IANA time zone id"),
        DateString("modification_date", comment="date of last modification, YYYY-MM-DD"),
    ],
)

geonames_cities = DataSet(
    name="geonames_cities",
    description="GeoNames cities15000: cities with more than 15,000 people, with coordinates",
    datum_templates=[place],
    assets=[
        StaticDataTable(
            name="cities15000",
            schema=default_tabular_schema(place),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://download.geonames.org/export/dump/cities15000.zip"
                    ),
                    encoding=TSVEncoding(compression=ZipCompression()),
                    sha256=None,
                )
            ),
            tag="geonames",
        )
    ],
)
