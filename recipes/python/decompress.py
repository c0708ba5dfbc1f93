# [recipe]
# constraint = "Decompressed"
# language = "python"
# entry = "decompress"
# summary = "The downloaded file is decompressed (gzip, bz2 or a single-member zip) into a temporary file."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "compressed temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# compression = { from = "source.compression", doc = "one of gzip, bz2 or zip" }

import bz2
import gzip
import shutil
import zipfile
import zlib


def decompress(source: str, destination: str, compression: str) -> None:
    """Decompress source into destination according to compression."""
    if compression not in ("gzip", "bz2", "zip"):
        raise ValueError(
            f"unknown compression {compression!r}: expected gzip, bz2 or zip"
        )
    chunk_size = 1 << 20
    with producing(destination, ["decompress", compression], source) as output:
        if output is None:
            return
        try:
            with open(output.part, "wb") as out:
                if compression == "gzip":
                    with gzip.open(source, "rb") as reader:
                        shutil.copyfileobj(reader, out, chunk_size)
                elif compression == "bz2":
                    with bz2.open(source, "rb") as reader:
                        shutil.copyfileobj(reader, out, chunk_size)
                else:
                    with zipfile.ZipFile(source) as archive:
                        members = [
                            info
                            for info in archive.infolist()
                            if not info.is_dir()
                            and not info.filename.startswith("__MACOSX/")
                        ]
                        if len(members) != 1:
                            names = [info.filename for info in members]
                            raise ValueError(
                                f"zip archive {source} must hold exactly one file, "
                                f"found {len(names)}: {names}"
                            )
                        with archive.open(members[0]) as reader:
                            shutil.copyfileobj(reader, out, chunk_size)
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise ValueError(
                f"{source} is truncated or corrupt as {compression} ({error}); fix: "
                "check the source (the next run downloads it again), or declare its "
                "real compression"
            ) from error
