# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "download"
# summary = "The remote file is in the temporary directory, verified against its sha256 when one is declared."
# libraries = []
# uses = ["markers", "progress"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# url = { from = "source.url", doc = "HTTP(S) URL or local path of the source file" }
# destination = { from = "output", doc = "temporary file this step writes" }
# sha256 = { from = "source.sha256", doc = "expected hex digest, or None" }
# compression = { from = "source.compression", doc = "gzip, bz2, zip or None: checked while downloading" }
# source_format = { from = "source.format", doc = "csv, tsv or jsonl: an HTML page is refused" }

import bz2
import hashlib
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib


def download(
    url: str,
    destination: str,
    sha256: str | None,
    compression: str | None,
    source_format: str,
) -> None:
    """Fetch url (or copy a local path) to destination, verified before it is trusted.

    Checked: the length the server announced, the integrity of the declared
    compression (a truncated gzip fails here, not three steps later), that the body
    is not an HTML page, and the declared sha256.
    """
    chunk_size = 1 << 20
    attempts = 5
    timeout = 60
    expected = sha256.strip().lower() if sha256 else None

    class Verifier:
        """Reads the declared compression as the bytes arrive, to prove them whole."""

        def __init__(self) -> None:
            self.digest = hashlib.sha256()
            self.size = 0
            self.head = b""
            self.inflate = self.member() if compression in ("gzip", "bz2") else None

        @staticmethod
        def member():
            if compression == "gzip":
                return zlib.decompressobj(wbits=31)
            return bz2.BZ2Decompressor()

        def update(self, chunk: bytes) -> None:
            self.digest.update(chunk)
            self.size += len(chunk)
            if len(self.head) < 512:
                self.head += chunk[: 512 - len(self.head)]
            while self.inflate is not None and chunk:
                if self.inflate.eof:
                    # Concatenated members are valid gzip and bzip2: start the next.
                    self.inflate = self.member()
                try:
                    self.inflate.decompress(chunk)
                except (OSError, EOFError, zlib.error) as error:
                    raise ValueError(
                        f"{url} is not valid {compression}: {error}"
                    ) from None
                chunk = self.inflate.unused_data if self.inflate.eof else b""

        def check(self, path: str) -> None:
            html = self.head.lstrip().lower().startswith((b"<!doctype html", b"<html"))
            if html and source_format != "html":
                raise ValueError(
                    f"{url} sent an HTML page, not {source_format} data; "
                    "fix: check the source URL (an error or login page?)"
                )
            magic = {"gzip": b"\x1f\x8b", "bz2": b"BZh", "zip": b"PK\x03\x04"}
            if compression and not self.head.startswith(magic[compression]):
                raise ValueError(
                    f"{url} is not {compression}-compressed (it starts with "
                    f"{self.head[:16]!r}); fix: declare the source's real compression"
                )
            if self.inflate is not None and not self.inflate.eof:
                raise ValueError(
                    f"{url} is truncated: its {compression} stream ends early "
                    f"after {self.size} bytes"
                )
            if compression == "zip":
                try:
                    with zipfile.ZipFile(path) as archive:
                        broken = archive.testzip()
                except zipfile.BadZipFile as error:
                    raise ValueError(
                        f"{url} is not a whole zip archive: {error}"
                    ) from None
                if broken is not None:
                    raise ValueError(f"{url}: zip member {broken!r} is corrupt")

    def copy_stream(reader, path: str, total: int | None = None) -> Verifier:
        verifier = Verifier()
        progress = Progress(f"download {url}", "bytes", total)
        with open(path, "wb") as out:
            for chunk in iter(lambda: reader.read(chunk_size), b""):
                verifier.update(chunk)
                out.write(chunk)
                progress.advance(len(chunk))
        progress.finish(f"{verifier.size:,} bytes")
        return verifier

    def fetch(path: str) -> Verifier:
        request = urllib.request.Request(url, headers={"User-Agent": "aorist"})
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    encoded = response.headers.get("Content-Encoding")
                    total = (
                        int(length)
                        if length and length.isdigit() and not encoded
                        else None
                    )
                    verifier = copy_stream(response, path, total)
                    if (
                        length is not None
                        and not encoded
                        and verifier.size != int(length)
                    ):
                        raise http.client.IncompleteRead(
                            b"", int(length) - verifier.size
                        )
                return verifier
            except urllib.error.HTTPError as error:
                error.close()
                retryable = error.code >= 500 or error.code == 429
                if not retryable or attempt == attempts:
                    raise
            except (
                urllib.error.URLError,
                http.client.HTTPException,
                ConnectionError,
                TimeoutError,
            ):
                if attempt == attempts:
                    raise
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        local = None
    elif scheme == "file":
        local = urllib.request.url2pathname(parsed.path)
    elif scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        local = url
    else:
        raise ValueError(f"unsupported URL scheme {parsed.scheme!r} in {url!r}")

    parts = ["download", url, expected, compression, source_format]
    with producing(destination, parts) as output:
        if output is None:
            return
        if local is None:
            verifier = fetch(output.part)
        else:
            with open(local, "rb") as reader:
                verifier = copy_stream(reader, output.part, os.path.getsize(local))
        verifier.check(output.part)
        actual = verifier.digest.hexdigest()
        if expected is not None and actual != expected:
            raise ValueError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}"
            )
        output.facts.append(f"sha256 {actual}")
