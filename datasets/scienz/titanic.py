"""Titanic passengers: 891 people aboard RMS Titanic, and whether they survived.

Each row is one passenger of the well-known training set of Kaggle's "Titanic: Machine
Learning from Disaster" competition: id, survival (0 or 1), ticket class, name, sex,
age, siblings or spouses aboard, parents or children aboard, ticket number, fare, cabin
and port of embarkation. This entry reads the copy that pandas keeps for its
documentation: comma-separated, one header line, names in double quotes (they contain
commas; quotes inside names are doubled). Age, cabin and port are empty when unknown.

Source: https://github.com/pandas-dev/pandas/blob/main/doc/data/titanic.csv; raw file at
    https://raw.githubusercontent.com/pandas-dev/pandas/main/doc/data/titanic.csv
Licence: no licence is stated for the data; the file is distributed in the pandas
    repository (BSD-3-Clause). The passenger list derives from Encyclopedia Titanica.
Size: 891 rows, 12 columns, about 60 KB.
Schema: passenger_id (KeyInt64Identifier), survived (Boolean), pclass (Int64), name
    (FreeText), sex (Categorical), age (Float64, nullable), sib_sp, parch (Count), ticket
    (StringIdentifier), fare (Float64), cabin (StringIdentifier, nullable), embarked
    (Categorical, nullable).
Checksum: none published (GitHub serves no digest for repository files); sha256 is left None.
Samples:
    passengers: 1,0,3,"Braund, Mr. Owen Harris",male,22,1,0,A/5 21171,7.25,,S
"""

from __future__ import annotations

from aorist import (
    Boolean,
    Categorical,
    Count,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    FreeText,
    Int64,
    KeyInt64Identifier,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    StringIdentifier,
    WebLocation,
    default_tabular_schema,
)

passenger = RowStruct(
    name="passenger",
    attributes=[
        KeyInt64Identifier("passenger_id", comment="PassengerId"),
        Boolean("survived", comment="Survived: 1 if the passenger survived"),
        Int64("pclass", comment="Pclass: ticket class, 1 (first) to 3 (third)"),
        FreeText("name", comment="Name, as 'Surname, Title Given names'"),
        Categorical("sex", comment="male or female"),
        Float64("age", comment="Age in years; fractional below 1", nullable=True),
        Count("sib_sp", comment="SibSp: siblings and spouses aboard"),
        Count("parch", comment="Parch: parents and children aboard"),
        StringIdentifier("ticket", comment="Ticket number"),
        Float64("fare", comment="Fare paid, in pounds"),
        StringIdentifier("cabin", comment="Cabin number(s)", nullable=True),
        Categorical(
            "embarked",
            comment="port: C (Cherbourg), Q (Queenstown) or S (Southampton)",
            nullable=True,
        ),
    ],
)

titanic = DataSet(
    name="titanic",
    description="Titanic passengers (Kaggle training set, as kept by pandas) and their survival",
    datum_templates=[passenger],
    assets=[
        StaticDataTable(
            name="passengers",
            schema=default_tabular_schema(passenger),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(
                        address="https://raw.githubusercontent.com/pandas-dev/pandas/main/doc/data/titanic.csv"
                    ),
                    encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                    sha256=None,
                )
            ),
            tag="titanic",
        )
    ],
)
