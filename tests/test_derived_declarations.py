"""Bad declarations of derived assets and models: each is a typed error naming the path,
the cause and the fix, and applying the fix it suggests makes the universe plan."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from aorist import (
    AoristError,
    ComputedFromLocalData,
    CSVEncoding,
    CSVHeader,
    CycleError,
    DataSet,
    DeclarationError,
    Float64,
    HiveTableStorage,
    IdentifierTuple,
    KeyInt64Identifier,
    LinearRegressionAlgorithm,
    LocalFileStorage,
    LocalFileSystemLocation,
    MinioLocation,
    NoRecipeError,
    NumericIdentifier,
    ONNXEncoding,
    ORCEncoding,
    ParquetEncoding,
    PredictionsFromTrainedFloatMeasure,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    SupervisedModel,
    TrainedFloatMeasure,
    UndefinedTabularSchema,
    Universe,
    UnknownReferenceError,
    UnsupportedStorageError,
    WebLocation,
    dag,
    default_tabular_schema,
)

EDGE = IdentifierTuple(
    name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
)
MEASURE = RowStruct(
    name="measure", attributes=[KeyInt64Identifier("node"), Float64("weight"), Float64("size")]
)
LAKE = HiveTableStorage(location=MinioLocation(name="lake"), encoding=ParquetEncoding())
MODELS = LocalFileStorage(location=LocalFileSystemLocation(path="models"), encoding=ONNXEncoding())


def remote(name: str, template=EDGE) -> StaticDataTable:
    return StaticDataTable(
        name=name,
        schema=default_tabular_schema(template),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=f"https://example.org/{name}.csv"),
                encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
            )
        ),
    )


def derived(name: str, sources: dict[str, str], sql: str, target=LAKE) -> StaticDataTable:
    return StaticDataTable(
        name=name,
        schema=UndefinedTabularSchema(),
        setup=ComputedFromLocalData(source_asset_names=sources, target=target, sql=sql),
    )


def universe(*assets: StaticDataTable | SupervisedModel) -> Universe:
    graphs = DataSet(name="graphs", datum_templates=[EDGE, MEASURE], assets=list(assets))
    return Universe(name="lab", datasets=[graphs])


def model(features: list[str], target=MODELS) -> SupervisedModel:
    return SupervisedModel(
        name="size_model",
        template=TrainedFloatMeasure(name="predicted_size", features=features, objective="size"),
        algorithm=LinearRegressionAlgorithm(),
        setup=ComputedFromLocalData(
            source_asset_names={"training_dataset": "measures"}, target=target
        ),
    )


def plans(u: Universe, dialect: str = "python", **options) -> None:
    code = dag(u, ["AllAssetsComputed"], dialect, **options)
    assert code


def fix_of(error: AoristError) -> str:
    message = str(error)
    assert "; fix: " in message, message
    return message.split("; fix: ", 1)[1]


def test_an_unknown_source_names_the_path_and_the_nearest_assets() -> None:
    broken = universe(
        remote("ca_grqc"), derived("degrees", {"edges": "ca_grqx"}, "SELECT * FROM {edges}")
    )
    with pytest.raises(UnknownReferenceError) as raised:
        plans(broken)
    message = str(raised.value)
    assert message.startswith(
        "universe 'lab' / dataset 'graphs' / asset 'degrees' / "
        'setup.source_asset_names["edges"]: '
    )
    assert "'graphs' has no asset \"ca_grqx\"" in message
    suggested = re.findall(r'"(\w+)"', fix_of(raised.value))
    assert suggested == ["ca_grqc"]
    plans(
        universe(
            remote("ca_grqc"), derived("degrees", {"edges": suggested[0]}, "SELECT * FROM {edges}")
        )
    )


def test_another_datasets_asset_is_named_dataset_dot_asset() -> None:
    other = DataSet(name="other", datum_templates=[EDGE], assets=[remote("edges")])
    mine = DataSet(name="mine", assets=[derived("copy", {"e": "other.edgez"}, "SELECT * FROM {e}")])
    with pytest.raises(UnknownReferenceError) as raised:
        plans(Universe(name="lab", datasets=[other, mine]))
    assert "dataset 'other' has no asset \"edgez\"" in str(raised.value)
    assert '"other.edges"' in fix_of(raised.value)
    fixed = DataSet(
        name="mine", assets=[derived("copy", {"e": "other.edges"}, "SELECT * FROM {e}")]
    )
    plans(Universe(name="lab", datasets=[other, fixed]))


def test_a_cycle_of_three_derived_tables_prints_the_cycle() -> None:
    broken = universe(
        derived("a", {"x": "c"}, "SELECT * FROM {x}"),
        derived("b", {"x": "a"}, "SELECT * FROM {x}"),
        derived("c", {"x": "b"}, "SELECT * FROM {x}"),
    )
    with pytest.raises(CycleError) as raised:
        plans(broken)
    message = str(raised.value)
    assert message.startswith("universe 'lab' / dataset 'graphs' / asset '")
    cycle = re.search(r"form a cycle: (.*) \(each", message).group(1).split(" <- ")
    assert cycle[0] == cycle[-1] and sorted(cycle[:-1]) == ["graphs.a", "graphs.b", "graphs.c"]
    assert "source_asset_names" in fix_of(raised.value)
    # The fix: one of them computed from something outside the cycle.
    plans(
        universe(
            remote("edges"),
            derived("a", {"x": "edges"}, "SELECT * FROM {x}"),
            derived("b", {"x": "a"}, "SELECT * FROM {x}"),
            derived("c", {"x": "b"}, "SELECT * FROM {x}"),
        )
    )


def test_a_placeholder_naming_no_role_is_refused_at_declaration() -> None:
    with pytest.raises(UnknownReferenceError) as raised:
        ComputedFromLocalData(
            source_asset_names={"edges": "e"}, target=LAKE, sql="SELECT * FROM {edgez}"
        )
    message = str(raised.value)
    assert message.startswith("ComputedFromLocalData.sql: the placeholder {edgez}: ")
    assert "'edges'" in fix_of(raised.value)
    with pytest.raises(DeclarationError, match="is not a placeholder"):
        ComputedFromLocalData(source_asset_names={"e": "e"}, target=LAKE, sql="SELECT '{' FROM {e}")
    ComputedFromLocalData(source_asset_names={"e": "e"}, target=LAKE, sql="SELECT '{{' FROM {e}")


def test_a_lambda_is_refused_as_a_function() -> None:
    with pytest.raises(DeclarationError) as raised:
        ComputedFromLocalData(
            source_asset_names={"edges": "e"}, target=LAKE, function=lambda edges: edges
        )
    assert "lambda" in str(raised.value) and "; fix: " in str(raised.value)


def test_features_the_training_table_lacks_are_named() -> None:
    broken = universe(remote("measures", MEASURE), model(["weight", "colour"]))
    with pytest.raises(DeclarationError) as raised:
        plans(broken)
    message = str(raised.value)
    assert message.startswith("universe 'lab' / dataset 'graphs' / asset 'size_model' / template: ")
    assert '"colour"' in message and "node, weight, size" in message
    plans(universe(remote("measures", MEASURE), model(["weight"])))


def test_a_model_is_written_as_an_onnx_file() -> None:
    broken = universe(remote("measures", MEASURE), model(["weight"], target=LAKE))
    with pytest.raises(UnsupportedStorageError) as raised:
        plans(broken)
    assert "ONNXEncoding()" in fix_of(raised.value)
    plans(universe(remote("measures", MEASURE), model(["weight"])))


def test_predictions_need_a_model_and_data() -> None:
    def predictions(sources: dict[str, str]) -> StaticDataTable:
        template = PredictionsFromTrainedFloatMeasure(
            name="predicted_size", key_attributes=[KeyInt64Identifier("node")]
        )
        return StaticDataTable(
            name="predictions",
            schema=default_tabular_schema(template),
            setup=ComputedFromLocalData(source_asset_names=sources, target=LAKE),
        )

    with pytest.raises(DeclarationError) as raised:
        plans(
            universe(
                remote("measures", MEASURE), model(["weight"]), predictions({"m": "size_model"})
            )
        )
    assert '"model"' in fix_of(raised.value)
    plans(
        universe(
            remote("measures", MEASURE),
            model(["weight"]),
            predictions({"model": "size_model", "data": "measures"}),
        )
    )


@pytest.mark.parametrize("dialect", ["r"])
def test_an_orc_target_in_r_plans_and_its_language_fix_works(dialect: str) -> None:
    """No error loop: restricting R to R/SQL/bash names Python, and allowing it plans."""
    orc = HiveTableStorage(location=MinioLocation(name="lake"), encoding=ORCEncoding())
    u = universe(remote("edges"), derived("copy", {"e": "edges"}, "SELECT * FROM {e}", orc))
    plans(u, dialect)
    with pytest.raises(NoRecipeError) as raised:
        plans(u, dialect, preferences=["r", "sql", "bash"])
    fix = fix_of(raised.value)
    languages = re.search(r"allow one of \[(.*)\] in preferences", fix).group(1).split(", ")
    assert "python" in languages
    plans(u, dialect, preferences=["r", "sql", "bash", *languages])


ERRORS: list[tuple[str, Callable[[], Universe]]] = [
    ("unknown source", lambda: universe(derived("d", {"e": "nothing"}, "SELECT * FROM {e}"))),
    ("model target", lambda: universe(remote("measures", MEASURE), model(["weight"], LAKE))),
]


@pytest.mark.parametrize(("name", "build"), ERRORS, ids=[e[0] for e in ERRORS])
def test_every_error_is_typed_with_path_cause_and_fix(name: str, build) -> None:
    with pytest.raises(AoristError) as raised:
        plans(build())
    path, _, rest = str(raised.value).partition(": ")
    assert path.startswith("universe 'lab'") and "; fix: " in rest


def test_splitting_by_dataset_reads_other_datasets_instead_of_computing_them() -> None:
    """Split, `mine` checks the table it reads from `other` (AssetAvailable) and makes
    nothing of `other`; `other`'s program knows nothing of `mine`."""
    from aorist import dag_files, stage

    other = DataSet(name="other", datum_templates=[EDGE], assets=[remote("edges")])
    mine = DataSet(name="mine", assets=[derived("copy", {"e": "other.edges"}, "SELECT * FROM {e}")])
    u = Universe(name="lab", datasets=[other, mine])
    files = dag_files(u, ["AllAssetsComputed"], "python", split="dataset")
    assert list(files) == ["lab_other.py", "lab_mine.py"]
    assert "mine" not in files["lab_other.py"]
    assert "edges_asset_available" in files["lab_mine.py"]
    assert "edges_downloaded" not in files["lab_mine.py"]
    assert "edges_downloaded" in files["lab_other.py"]
    # Whole, the same universe computes `other` and never merely checks it.
    whole = json.loads(stage(u, ["AllAssetsComputed"], "dag"))["instances"]
    assert "AssetAvailable" not in {i["constraint"] for i in whole}
    assert list(dag_files(u, ["AllAssetsComputed"], "python")) == ["lab.py"]


def test_two_models_writing_one_file_are_refused() -> None:
    from aorist import DuplicateNameError

    def dataset(name: str, path: str) -> DataSet:
        models = LocalFileStorage(
            location=LocalFileSystemLocation(path=path), encoding=ONNXEncoding()
        )
        return DataSet(
            name=name,
            datum_templates=[MEASURE],
            assets=[remote("measures", MEASURE), model(["weight"], target=models)],
        )

    clash = Universe(name="lab", datasets=[dataset("a", "models"), dataset("b", "models")])
    with pytest.raises(DuplicateNameError) as raised:
        plans(clash)
    assert '"models/size_model.onnx"' in str(raised.value)
    assert "target paths" in fix_of(raised.value)
    plans(Universe(name="lab", datasets=[dataset("a", "models/a"), dataset("b", "models/b")]))


def test_algorithm_hyperparameters_are_checked_at_declaration() -> None:
    from aorist import LogisticRegressionAlgorithm, SVMRegressionAlgorithm

    with pytest.raises(DeclarationError, match=r"\.c: 0\.0 is not a positive.*fix: pass c > 0"):
        SVMRegressionAlgorithm(c=0)
    with pytest.raises(DeclarationError, match=r"\.c: -1\.0 is not a positive"):
        LogisticRegressionAlgorithm(c=-1)
    with pytest.raises(DeclarationError, match=r"kernel: 'rfb'.*fix: use one of linear, poly"):
        SVMRegressionAlgorithm(kernel="rfb")
    assert SVMRegressionAlgorithm(kernel="linear", c=0.5).c == 0.5
