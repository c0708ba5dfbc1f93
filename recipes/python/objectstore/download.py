# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "objectstore_download"
# summary = "The remote file is fetched into a scratch directory, verified against its sha256 when one is declared, and stored in the bucket."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# url = { from = "source.url", doc = "HTTP(S) URL or local path of the source file" }
# destination = { from = "output", doc = "bucket key this step writes" }
# sha256 = { from = "source.sha256", doc = "expected hex digest, or None" }
# compression = { from = "source.compression", doc = "gzip, bz2, zip or None: checked after downloading" }
# source_format = { from = "source.format", doc = "csv, tsv or jsonl: an HTML page is refused" }

import bz2
import gzip
import hashlib
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile


def objectstore_download(
    config: dict,
    url: str,
    destination: str,
    sha256: str | None,
    compression: str | None,
    source_format: str,
) -> None:
    """Fetch url (or copy a local path) and store it at bucket key `destination`.

    Checked before it is trusted: the whole body arrived, the declared compression
    reads to its end, the body is not an HTML page, and the declared sha256.
    """
    expected = sha256.strip().lower() if sha256 else None
    # The bucket is checked first: wrong keys fail before anything is fetched.
    s3_connect(config)

    def fetch(path: str) -> None:
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            local = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
            shutil.copyfile(local if scheme == "file" else url, path)
            return
        request = urllib.request.Request(url, headers={"User-Agent": "aorist"})
        delay = 0.5
        for attempt in range(1, 6):
            try:
                with (
                    urllib.request.urlopen(request, timeout=60) as response,
                    open(path, "wb") as out,
                ):
                    shutil.copyfileobj(response, out, 1 << 20)
                    length = response.headers.get("Content-Length")
                    size = out.tell()
                    if length is not None and size != int(length):
                        raise ConnectionError(f"got {size} of {length} bytes")
                return
            except urllib.error.HTTPError as error:
                error.close()
                if error.code < 500 and error.code != 429 or attempt == 5:
                    raise
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == 5:
                    raise
            time.sleep(delay)
            delay *= 2

    def check(path: str) -> str:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            head = handle.read(512)
            handle.seek(0)
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
            raise ValueError(
                f"{url} sent an HTML page, not {source_format} data; "
                "fix: check the source URL (an error or login page?)"
            )
        try:
            if compression == "gzip":
                with gzip.open(path, "rb") as reader:
                    while reader.read(1 << 20):
                        pass
            elif compression == "bz2":
                with bz2.open(path, "rb") as reader:
                    while reader.read(1 << 20):
                        pass
            elif compression == "zip":
                with zipfile.ZipFile(path) as archive:
                    if archive.testzip() is not None:
                        raise ValueError("a member is corrupt")
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{url} is not whole {compression} data ({error}); fix: check the "
                "source, or declare its real compression"
            ) from None
        return digest.hexdigest()

    parts = ["objectstore_download", url, expected, compression, source_format]
    with s3_producing(config, destination, parts) as output:
        if output is None:
            return
        fetch(output.part)
        actual = check(output.part)
        if expected is not None and actual != expected:
            raise ValueError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}; fix: "
                "declare the digest of the file the source serves"
            )
        output.facts.append(f"sha256 {actual}")
