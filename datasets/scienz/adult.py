"""UCI Adult (Census Income): 48,842 people from the 1994 US Census, with income over $50K/yr.

Each row is one person (Kohavi and Becker's extraction from the 1994 Current Population
Survey): age, work class, a census sampling weight (fnlwgt), education, marital status,
occupation, relationship, race, sex, capital gains and losses, hours worked per week,
native country, and whether income exceeds $50K a year. UCI splits it into a training
file (adult.data) and a test file (adult.test).

Both files are comma-separated with no column names, and UCI writes a space after every
comma: text columns keep that leading space in the lake (" State-gov"), numbers read as
numbers. Missing categories are written "?". adult.test opens with one line that is not
data ("|1x3 Cross validator"), and its income labels end with a full stop (">50K.").
Both files end with an empty line.

Source: https://archive.ics.uci.edu/dataset/2/adult; files at
    https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data and
    https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.test
Licence: CC BY 4.0 (UCI Machine Learning Repository); cite Becker, B. and Kohavi, R.
    (1996), Adult, https://doi.org/10.24432/C5XW20
Size: adult.data 32,561 rows (about 3.8 MB), adult.test 16,281 rows (about 1.9 MB);
    15 columns each.
Schema: age (Int64), workclass (Categorical), fnlwgt (Int64), education (Categorical),
    education_num (Int64), marital_status, occupation, relationship, race, sex
    (Categorical), capital_gain, capital_loss, hours_per_week (Int64), native_country,
    income (Categorical).
Checksum: none published by UCI; sha256 is left None.
Samples:
    adult_data: 39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K
    adult_test: 25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, <=50K.
"""  # noqa: E501

from __future__ import annotations

from aorist import (
    Categorical,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Int64,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    WebLocation,
    default_tabular_schema,
)

BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"

person = RowStruct(
    name="person",
    attributes=[
        Int64("age"),
        Categorical("workclass", comment="e.g. Private, State-gov; '?' when unknown"),
        Int64("fnlwgt", comment="final sampling weight: people the row stands for"),
        Categorical("education", comment="highest level, e.g. Bachelors, HS-grad"),
        Int64("education_num", comment="education as a number, 1 (Preschool) to 16"),
        Categorical("marital_status"),
        Categorical("occupation", comment="'?' when unknown"),
        Categorical("relationship", comment="e.g. Husband, Own-child, Not-in-family"),
        Categorical("race"),
        Categorical("sex"),
        Int64("capital_gain"),
        Int64("capital_loss"),
        Int64("hours_per_week"),
        Categorical("native_country", comment="'?' when unknown"),
        Categorical("income", comment="<=50K or >50K (with a trailing '.' in adult.test)"),
    ],
)


def _file(name: str, header_lines: int) -> StaticDataTable:
    return StaticDataTable(
        name=name.replace(".", "_"),
        schema=default_tabular_schema(person),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=BASE + name),
                encoding=CSVEncoding(
                    header=CSVHeader(num_lines=header_lines) if header_lines else None
                ),
                sha256=None,
            )
        ),
        tag="adult",
    )


adult = DataSet(
    name="adult",
    description="UCI Adult (Census Income): 1994 census records labelled by income over $50K",
    datum_templates=[person],
    assets=[_file("adult.data", 0), _file("adult.test", 1)],
)
