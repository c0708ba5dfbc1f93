# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "download"
# summary = "The remote file is in the temporary directory, verified against its sha256 when one is declared."
# libraries = []
#
# [recipe.parameters]
# url = { from = "source.url", doc = "HTTP(S) URL or local path of the source file" }
# destination = { from = "output", doc = "temporary file this step writes" }
# sha256 = { from = "source.sha256", doc = "expected hex digest, or None" }

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request


def download(url: str, destination: str, sha256: str | None) -> None:
    """Fetch url (or copy a local path) to destination, checking sha256 if given."""
    chunk_size = 1 << 20
    attempts = 5
    timeout = 60
    expected = sha256.strip().lower() if sha256 else None

    def file_digest(path: str) -> str:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(chunk_size), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def copy_stream(reader, path: str):
        digest = hashlib.sha256()
        size = 0
        with open(path, "wb") as out:
            for chunk in iter(lambda: reader.read(chunk_size), b""):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        return digest.hexdigest(), size

    def fetch(path: str) -> str:
        request = urllib.request.Request(url, headers={"User-Agent": "aorist"})
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    actual, size = copy_stream(response, path)
                    length = response.headers.get("Content-Length")
                    encoded = response.headers.get("Content-Encoding")
                    if length is not None and not encoded and size != int(length):
                        raise http.client.IncompleteRead(b"", int(length) - size)
                return actual
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

    if os.path.exists(destination):
        if expected is None or file_digest(destination) == expected:
            return
        os.remove(destination)

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

    parent = os.path.dirname(os.path.abspath(destination))
    os.makedirs(parent, exist_ok=True)
    part = destination + ".part"
    try:
        if local is None:
            actual = fetch(part)
        else:
            with open(local, "rb") as reader:
                actual, _ = copy_stream(reader, part)
        if expected is not None and actual != expected:
            raise ValueError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}"
            )
        os.replace(part, destination)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
