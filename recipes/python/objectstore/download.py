# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "objectstore_download"
# summary = "The remote file is fetched into a scratch directory, verified against its sha256 when one is declared, and stored in the bucket."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"], "source.layout" = ["file"] }
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
import json
import os
import shutil
import tempfile
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

    def fetch(path: str, held: dict) -> dict | None:
        """The source in path and what identifies its content (ETag, Last-Modified;
        a local file's size and time); None when `held` still describes it."""
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            local = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
            local = local if scheme == "file" else url
            status = os.stat(local)
            now = {"size": status.st_size, "mtime_ns": status.st_mtime_ns}
            if held and now == held:
                return None
            shutil.copyfile(local, path)
            return now
        asks = {"etag": "If-None-Match", "last_modified": "If-Modified-Since"}
        headers = {asks[k]: v for k, v in held.items() if k in asks and v}
        request = urllib.request.Request(
            url, headers={"User-Agent": "aorist", **headers}
        )
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
                    sent = {
                        "etag": response.headers.get("ETag"),
                        "last_modified": response.headers.get("Last-Modified"),
                    }
                return {k: v for k, v in sent.items() if v}
            except urllib.error.HTTPError as error:
                error.close()
                if error.code == 304 and held:
                    return None
                if error.code < 500 and error.code != 429 or attempt == 5:
                    raise
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == 5:
                    raise
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

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

    def verified(path: str) -> str:
        actual = check(path)
        if expected is not None and actual != expected:
            raise ValueError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}; fix: "
                "declare the digest of the file the source serves"
            )
        return actual

    parts = ["objectstore_download", url, expected, compression, source_format]
    # What the server said of the object we hold, beside it: not in its marker, so
    # that new validators for the same bytes rerun nothing after it.
    validators_key = s3_key(destination) + ".source"
    step = step_key(*parts, "")

    def keep(validators: dict | None) -> None:
        if validators:
            s3_put_text(config, validators_key, json.dumps(validators, sort_keys=True))
        else:
            s3_delete(config, validators_key)

    def up_to_date(why: str) -> None:
        # A task says it skipped in its own line (see Run).
        if TASK.get() is None:
            print(f"download {url}: up to date ({why})\n", end="", flush=True)
        report_output("fresh", f"up to date ({why})")

    lines = s3_marker(config, destination).split("\n")
    if lines[0] == step and s3_exists(config, s3_key(destination)):
        if expected is not None:
            up_to_date("sha256 declared")
            return
        try:
            held = json.loads(s3_read_text(config, validators_key) or "{}")
        except ValueError:
            held = {}
        with tempfile.TemporaryDirectory(prefix="aorist-") as scratch:
            part = os.path.join(scratch, "part")
            now = fetch(part, held)
            if now is None:
                up_to_date("not modified")
                return
            actual = verified(part)
            if f"sha256 {actual}" in lines[2:]:
                up_to_date("same sha256")
            elif TASK.get() is not None and TASK.get().dry_run:
                marker = [step, "", f"sha256 {actual}"]
                s3_predict(
                    config, s3_key(destination), marker, [], "source changed upstream"
                )
                return
            else:
                print(f"download {url}: changed upstream\n", end="", flush=True)
                # Untrusted while it is replaced: a kill here downloads it again.
                s3_delete(config, s3_key(destination) + ".done")
                s3_put(config, part, s3_key(destination))
                marker = "\n".join([step, "", f"sha256 {actual}"]) + "\n"
                s3_put_text(config, s3_key(destination) + ".done", marker)
                report_output("made", version=digest(marker))
        if not TASK.get() or not TASK.get().dry_run:
            keep(now)
        return
    with s3_producing(config, destination, parts) as output:
        if output is None:
            return
        now = fetch(output.part, {})
        output.facts.append(f"sha256 {verified(output.part)}")
    keep(now)
