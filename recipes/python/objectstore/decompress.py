# [recipe]
# constraint = "Decompressed"
# language = "python"
# entry = "objectstore_decompress"
# summary = "The downloaded object is decompressed (gzip, bz2 or a single-member zip) into another object of the bucket."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# source = { from = "input", doc = "bucket key of the compressed file" }
# destination = { from = "output", doc = "bucket key this step writes" }
# compression = { from = "source.compression", doc = "one of gzip, bz2 or zip" }

import bz2
import gzip
import shutil
import zipfile
import zlib


def objectstore_decompress(
    config: dict, source: str, destination: str, compression: str
) -> None:
    """Decompress object `source` into object `destination`."""
    if compression not in ("gzip", "bz2", "zip"):
        raise ValueError(
            f"unknown compression {compression!r}: expected gzip, bz2 or zip"
        )
    parts = ["objectstore_decompress", compression]
    with s3_local_step(config, source, destination, parts) as step:
        if step is None:
            return
        local, output = step
        try:
            with open(output.part, "wb") as out:
                if compression == "gzip":
                    with gzip.open(local, "rb") as reader:
                        shutil.copyfileobj(reader, out, 1 << 20)
                elif compression == "bz2":
                    with bz2.open(local, "rb") as reader:
                        shutil.copyfileobj(reader, out, 1 << 20)
                else:
                    with zipfile.ZipFile(local) as archive:
                        members = [
                            info
                            for info in archive.infolist()
                            if not info.is_dir()
                            and not info.filename.startswith("__MACOSX/")
                        ]
                        if len(members) != 1:
                            raise ValueError(
                                f"zip archive {source} must hold exactly one file, "
                                f"found {len(members)}"
                            )
                        with archive.open(members[0]) as reader:
                            shutil.copyfileobj(reader, out, 1 << 20)
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{source} is truncated or corrupt as {compression} ({error}); fix: "
                "check the source (the next run downloads it again), or declare its "
                "real compression"
            ) from None
