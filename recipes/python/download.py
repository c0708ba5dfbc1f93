# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "download"
# summary = "The remote file is in the temporary directory, verified against its sha256 when one is declared."
# libraries = []
# uses = ["markers", "progress"]
# when = { engine = ["lake", "spark", "postgres"], "source.layout" = ["file", "directory"] }
#
# [recipe.parameters]
# url = { from = "source.url", doc = "HTTP(S) URL or local path of the source file" }
# destination = { from = "output", doc = "temporary file this step writes" }
# sha256 = { from = "source.sha256", doc = "expected hex digest, or None" }
# compression = { from = "source.compression", doc = "gzip, bz2, zip or None: its magic bytes are checked" }
# source_format = { from = "source.format", doc = "csv, tsv or jsonl: an HTML page is refused" }
# layout = { from = "source.layout", doc = "file, or directory: the list of the Parquet or ORC files under a local directory" }

import contextlib
import hashlib
import json
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile


def download(
    url: str,
    destination: str,
    sha256: str | None,
    compression: str | None,
    source_format: str,
    layout: str = "file",
) -> None:
    """Fetch url (or copy a local path) to destination, verified before it is trusted.

    A local directory (layout "directory") is listed instead: destination holds the
    path, size and modification time of each `.parquet` (or `.orc`) file under it,
    which the conversion reads; a changed file changes the list.

    Checked: the length the server announced, that the body starts as the declared
    compression and is not an HTML page, a zip archive's members, and the declared
    sha256. A gzip or bz2 stream is proved whole (CRC included) by the step that
    reads it, as it decompresses: inflating it here too would double that work.
    """
    chunk_size = 1 << 20
    attempts = 5
    timeout = 60
    expected = sha256.strip().lower() if sha256 else None

    class Verifier:
        """Hashes the bytes as they arrive and keeps the first of them."""

        def __init__(self) -> None:
            self.digest = hashlib.sha256()
            self.size = 0
            self.head = b""

        def update(self, chunk: bytes) -> None:
            self.digest.update(chunk)
            self.size += len(chunk)
            if len(self.head) < 512:
                self.head += chunk[: 512 - len(self.head)]

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

    def fetch(path: str, conditional: dict) -> tuple[Verifier, dict] | None:
        """The body of url in path, verified as it arrives, and the validators the
        server sent with it (ETag, Last-Modified); None when the server says the
        copy described by `conditional` is still current (304)."""
        headers = {"User-Agent": "aorist"}
        if conditional.get("etag"):
            headers["If-None-Match"] = conditional["etag"]
        if conditional.get("last_modified"):
            headers["If-Modified-Since"] = conditional["last_modified"]
        request = urllib.request.Request(url, headers=headers)
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
                    sent = {
                        "etag": response.headers.get("ETag"),
                        "last_modified": response.headers.get("Last-Modified"),
                    }
                return verifier, {k: v for k, v in sent.items() if v}
            except urllib.error.HTTPError as error:
                error.close()
                if error.code == 304 and conditional:
                    return None
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

    def fetched(path: str, conditional: dict) -> tuple[str, dict] | None:
        """Fetch (or copy) the source into path: its sha256 and validators, or None
        when it is unchanged since `conditional`, checked before it is trusted."""
        if local is None:
            got = fetch(path, conditional)
            if got is None:
                return None
            verifier, validators = got
        elif layout == "directory":
            listing = json.dumps(directory_listing(), sort_keys=True).encode()
            validators = {"listing": hashlib.sha256(listing).hexdigest()}
            if conditional and validators == conditional:
                return None
            verifier = Verifier()
            verifier.update(listing)
            with open(path, "wb") as out:
                out.write(listing)
        else:
            status = os.stat(local)
            validators = {"size": status.st_size, "mtime_ns": status.st_mtime_ns}
            if conditional and validators == conditional:
                return None
            with open(local, "rb") as reader:
                verifier = copy_stream(reader, path, status.st_size)
        verifier.check(path)
        actual = verifier.digest.hexdigest()
        if expected is not None and actual != expected:
            raise ValueError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}"
            )
        return actual, validators

    def directory_listing() -> dict:
        """The files of the directory `local` to read, as the conversion reads them."""
        if local is None or not os.path.isdir(local):
            raise ValueError(
                f"{url} is not a local directory; fix: declare DirectoryLayout() only "
                "for a directory of Parquet or ORC files on this machine"
            )
        files = []
        for folder, folders, names in os.walk(local):
            # Hidden and underscored entries (_SUCCESS, .crc) are no data.
            folders[:] = sorted(f for f in folders if not f.startswith((".", "_")))
            for name in sorted(names):
                if name.startswith((".", "_")) or not name.endswith(
                    "." + source_format
                ):
                    continue
                full = os.path.join(folder, name)
                status = os.stat(full)
                relative = os.path.relpath(full, local).replace(os.sep, "/")
                files.append([relative, status.st_size, status.st_mtime_ns])
        if not files:
            raise ValueError(
                f"{url} holds no .{source_format} file; fix: check the path, or the "
                "declared encoding"
            )
        return {"directory": os.path.abspath(local), "files": files}

    def keep(validators: dict) -> None:
        if validators:
            write_atomically(validators_path, json.dumps(validators, sort_keys=True))
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(validators_path)

    parts = ["download", url, expected, compression, source_format]
    parts += ["directory"] if layout == "directory" else []
    # What the server said of the copy we hold (ETag, Last-Modified), beside it: not
    # in its marker, so that new validators for the same bytes rerun nothing.
    validators_path = destination + ".source"
    key = step_key(*parts, "")
    facts = version_facts(parts, [])
    lines = marker_text(destination).split("\n")
    task = TASK.get()

    def found(state: str, why: str) -> None:
        if task is not None:
            task.found(state, why, digest(marker_text(destination)))
        if task is None or state == "made":
            # A task says it skipped in its own line (see Run).
            print(f"download {url}: {why}\n", end="", flush=True)

    if os.path.exists(destination) and lines[0] == key:
        if expected is not None:
            # A declared sha256 pins the content: nothing to ask the server.
            found("fresh", "up to date (sha256 declared)")
            return
        try:
            with open(validators_path, encoding="utf-8") as handle:
                held = json.load(handle)
        except (OSError, ValueError):
            held = {}
        remove_abandoned_parts(destination)
        part = unique_part(destination)
        try:
            got = fetched(part, held)
            if got is None:
                found("fresh", "up to date (not modified)")
                return
            actual, validators = got
            if f"sha256 {actual}" in lines[2:]:
                # The same bytes: keep the file and its marker, so nothing after reruns.
                found("fresh", "up to date (same sha256)")
                os.remove(part)
            elif task is not None and task.dry_run:
                found("stale", "source changed upstream")
                os.remove(part)
                marker = [key, "", *facts, f"sha256 {actual}", ""]
                PREDICTED[os.path.abspath(destination)] = "\n".join(marker)
                MADE_BY[os.path.abspath(destination)] = task.name
                return
            else:
                replace_made(destination, part, [key, "", *facts, f"sha256 {actual}"])
                found("made", "changed upstream")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(part)
            raise
        keep(validators)
        return
    with producing(destination, parts) as output:
        if output is None:
            return
        actual, validators = fetched(output.part, {})
        output.facts.append(f"sha256 {actual}")
    keep(validators)
