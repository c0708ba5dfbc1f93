from aorist import CSVEncoding, DataSet, Universe, dag

from _common import EDGE, LAKE, asset

# Both datasets replicate an asset named `edges` into MinioLocation(name="graphs").
datasets = [
    DataSet(name=name, datum_templates=[EDGE], assets=[asset("edges")]).replicate_to_local(
        LAKE, f"tmp/{name}", CSVEncoding()
    )
    for name in ("graphs", "mirror")
]
dag(Universe(name="lab", datasets=datasets), ["AllAssetsComputed"])
