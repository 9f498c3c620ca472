"""Moving files from the Hugging Face Hub: listing a repository, and one resumable,
checked download of one file.

``download`` does not use ``hf_hub_download``: in huggingface_hub 2.x that writes to a
temporary file with a per-process random name and deletes it on any failure, so an
interrupted download starts again from zero. Instead it uses huggingface_hub's pieces (URL,
metadata HEAD, its HTTP session and error types) and keeps ``<file>.<etag>.part`` until the
bytes are complete and match the Hub's sha256; a GGUF's header is then checked
(``gguf_info.read_model_info``) and a file that is not a GPT-2 model is deleted and refused,
before anything is renamed into place. Every failure is a one-line ``DownloadError``.

HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE are read when a function is called, not when
huggingface_hub was imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import filelock
import httpx2
from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)
from huggingface_hub.utils import WeakFileLock, build_hf_headers, get_session, hf_raise_for_status

from gpt2_adventure.engine.models import hub_files
from gpt2_adventure.engine.models.gguf_header import HeaderError, read_header
from gpt2_adventure.engine.models.gguf_info import read_model_info
from gpt2_adventure.engine.models.hub_files import RepoFile
from gpt2_adventure.errors import DownloadError, ModelFileError
from gpt2_adventure.units import size_text

Progress = Callable[[int, int], None]  # (bytes done, bytes total); raise in it to cancel
Report = Callable[[str], None]  # one line per stage: listing, downloading, requantizing...

DEFAULT_ENDPOINT = "https://huggingface.co"
LIBRARY = "gpt2-adventure"

_CHUNK = 1 << 20  # progress and cancellation granularity
_RETRIES = 5  # consecutive failed attempts without any new byte
_RETRY_WAIT = 1.0  # seconds, times the attempt number
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OFFLINE_HINT = (
    "play a GGUF file you already have with --model PATH, "
    "or build one from a local checkpoint with `gpt2-adventure models convert`"
)


@dataclass(frozen=True)
class Hub:
    endpoint: str
    token: str | None

    def headers(self) -> dict[str, str]:
        # token=None lets huggingface_hub fall back to a saved `hf auth login` token.
        return build_hf_headers(token=self.token, library_name=LIBRARY)


@dataclass(frozen=True)
class Listing:
    repo_id: str  # as the Hub spells it
    commit: str | None  # downloads use this revision, so they match the listing
    files: tuple[RepoFile, ...]


def list_repo(hub: Hub, repo_id: str, say: Report) -> Listing:
    """Every file of ``repo_id`` with its size and sha256 (one request)."""
    say(f"listing {repo_id}")
    with download_errors(repo_id, hub.endpoint, repo=True):
        api = HfApi(endpoint=hub.endpoint, token=hub.token, library_name=LIBRARY)
        info = api.model_info(repo_id, files_metadata=True)
    files = tuple(
        RepoFile(s.rfilename, s.size, s.lfs.sha256 if s.lfs else None)
        for s in info.siblings or ()
        if hub_files.safe_path(s.rfilename)  # nothing may be installed outside its folder
    )
    canonical = info.id if isinstance(info.id, str) and hub_files.is_repo_id(info.id) else repo_id
    return Listing(canonical, info.sha, files)


def download(hub: Hub, repo: str, path_in_repo: str, folder: Path,
              progress: Progress | None, say: Report, *, install: Callable[[Path], Path],
              revision: str | None = None, gguf: bool = True) -> Path:
    """Fetch ``repo``'s file into ``folder`` as a resumable ``.part``, check its size and
    sha256 (and with ``gguf`` that it is a GPT-2 GGUF), then hand it to ``install`` (which
    renames or requantizes it) while still holding the file's lock; return what it returns."""
    what = f"{repo}/{path_in_repo}"
    local = path_in_repo.rsplit("/", 1)[-1]
    with download_errors(what, hub.endpoint):
        url = hf_hub_url(repo, path_in_repo, revision=revision, endpoint=hub.endpoint)
        meta = get_hf_file_metadata(
            url, token=hub.token, endpoint=hub.endpoint, library_name=LIBRARY
        )
        if meta.size is None or meta.etag is None:
            raise DownloadError(f"the Hub did not give the size and checksum of {what}")
        headers = hub.headers()
        if _origin(meta.location) != _origin(url):
            headers.pop("authorization", None)  # never send the token to a CDN
        folder.mkdir(parents=True, exist_ok=True)
        lock = folder / f".{local}.lock"
        with _exclusive(lock, what):
            partial = folder / f"{local}.{_tag(meta.etag)}.part"
            _drop_other_partials(folder, local, keep=partial)
            have = partial.stat().st_size if partial.exists() else 0
            if 0 < have < meta.size:
                say(f"resuming {what} ({size_text(have)} of {size_text(meta.size)} here)")
            else:
                say(f"downloading {what} ({size_text(meta.size)})")
            _fetch(meta.location, headers, partial, meta.size, progress)
            _verify(partial, meta.size, meta.etag, what)
            refused = _check_gguf(partial, what) if gguf else None
            if refused is None:
                return install(partial)
        # Refused: leave nothing behind, not even the folder made for it.
        lock.unlink(missing_ok=True)
        with suppress(OSError):
            folder.rmdir()  # only if empty
        raise refused


# -- the pieces of a download -------------------------------------------------------------


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def offline_error() -> DownloadError:
    return DownloadError("no network: HF_HUB_OFFLINE is set, so nothing can be downloaded",
                         hint=_OFFLINE_HINT)


def hub(endpoint: str | None, token: str | None) -> Hub:
    if offline():
        raise offline_error()
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    return Hub(endpoint.rstrip("/"), token or os.environ.get("HF_TOKEN") or None)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _tag(etag: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", etag)[:16] or "noetag"


def _drop_other_partials(folder: Path, filename: str, keep: Path) -> None:
    """A partial of another version of the file cannot be resumed: delete it."""
    for old in folder.glob(f"{_glob_escape(filename)}.*.part"):
        if old != keep:
            old.unlink(missing_ok=True)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


@contextmanager
def _exclusive(lock_path: Path, what: str) -> Iterator[None]:
    try:
        with WeakFileLock(lock_path, timeout=2):
            yield
    except filelock.Timeout:
        raise DownloadError(f"{what} is already being downloaded by another process",
                            hint="wait for it to finish") from None


def _fetch(url: str, headers: dict[str, str], partial: Path, total: int,
           progress: Progress | None) -> None:
    """Append the missing bytes of ``url`` to ``partial``; retry while connections drop."""
    failures = 0  # attempts in a row that brought no new byte
    partial.touch()  # an empty file is complete at once
    while True:
        done = partial.stat().st_size if partial.exists() else 0
        if done > total:  # not this file after all
            partial.unlink()
            done = 0
        if progress:
            progress(done, total)
        if done == total:
            return
        free = shutil.disk_usage(partial.parent).free
        if free < total - done:
            raise DownloadError(
                f"not enough disk space: {size_text(total - done)} more needed, "
                f"{size_text(free)} free",
                where=partial.parent,
            )
        error: httpx2.TransportError | None = None
        try:
            _get_range(url, headers, partial, done, total, progress)
        except httpx2.TransportError as exc:  # dropped or timed out: resume from what we have
            error = exc
        if partial.exists() and partial.stat().st_size != done:
            failures = 0
            continue
        failures += 1
        if failures > _RETRIES:
            if error is not None:
                raise error
            # Not the URL: a CDN location is signed and does not belong in a message.
            raise DownloadError("the download stopped: the server sends no more data",
                                hint="run the same command again to resume it")
        time.sleep(_RETRY_WAIT * failures)


def _get_range(url: str, headers: dict[str, str], partial: Path, done: int, total: int,
               progress: Progress | None) -> None:
    """One GET from byte ``done`` to the end, appended to ``partial``."""
    request_headers = {**headers, "Accept-Encoding": "identity"}  # byte offsets must be raw
    if done:
        request_headers["Range"] = f"bytes={done}-"
    timeout = constants.HF_HUB_DOWNLOAD_TIMEOUT
    with get_session().stream("GET", url, headers=request_headers, timeout=timeout) as response:
        hf_raise_for_status(response)
        mode = "ab"
        if done and response.status_code != 206:  # the server ignored the Range: start over
            mode, done = "wb", 0
        with partial.open(mode) as out:
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)


def _verify(partial: Path, size: int, etag: str, what: str) -> None:
    actual = partial.stat().st_size
    if actual != size:
        raise DownloadError(f"download of {what} stopped at {actual} of {size} bytes",
                            hint="run the same command again to resume it")
    if _SHA256.match(etag) and _sha256(partial) != etag:
        partial.unlink()
        raise DownloadError(f"the downloaded {what} does not match its checksum",
                            hint="run the same command again to download it afresh")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_gguf(partial: Path, what: str) -> ModelFileError | None:
    """None for a GPT-2 GGUF the game can load; else delete it and return the refusal."""
    try:
        read_model_info(partial)
        return None
    except ModelFileError as error:
        reason = f"is not a GPT-2 model the game can load: {error.message}"
        try:
            arch = read_header(partial).metadata.get("general.architecture")
            if isinstance(arch, str) and arch != "gpt2":
                reason = f"is a {arch!r} model, not GPT-2"
        except (HeaderError, OSError):
            pass
        partial.unlink(missing_ok=True)
        return ModelFileError(f"{what} {reason}",
                              hint="the download was deleted; gpt2-adventure plays GPT-2 GGUFs "
                                   "(gpt2-adventure models list)")


# -- errors ------------------------------------------------------------------------------


@contextmanager
def download_errors(what: str, endpoint: str, repo: bool = False) -> Iterator[None]:
    """Turn huggingface_hub/httpx/disk errors into one-line DownloadErrors; ``repo``: ``what``
    is a repository being listed."""
    try:
        yield
    except DownloadError:
        raise
    except OfflineModeIsEnabled:  # HF_HUB_OFFLINE was set when huggingface_hub was imported
        raise offline_error() from None
    except HfHubHTTPError as exc:
        raise _http_error(exc, what, endpoint if repo else None) from None
    except (httpx2.ConnectError, httpx2.ConnectTimeout, LocalEntryNotFoundError) as exc:
        raise DownloadError(f"no network: cannot reach {endpoint} ({_first_line(exc)})",
                            hint=_OFFLINE_HINT) from None
    except httpx2.TransportError as exc:
        raise DownloadError(f"download of {what} was interrupted: {_first_line(exc)}",
                            hint="run the same command again to resume it") from None
    except OSError as exc:  # after the HTTP errors above, which are OSErrors too
        raise DownloadError(f"cannot write the download: {exc.strerror or exc}",
                            where=exc.filename, hint="check free space and permissions") from None


def _http_error(exc: HfHubHTTPError, what: str, endpoint: str | None = None) -> DownloadError:
    """``endpoint``: ``what`` is a repository, listed at that Hub."""
    status = exc.response.status_code if exc.response is not None else None
    if isinstance(exc, RepositoryNotFoundError) and not isinstance(exc, GatedRepoError) \
            and status == 401:  # the Hub's answer for a missing repo to a visitor
        return DownloadError(
            f"{what} was not found on the Hub, or it is private (HTTP 401)",
            hint="check the name; for a private repo, set HF_TOKEN to a token that can read it",
        )
    if status in (401, 403) or isinstance(exc, GatedRepoError):
        return DownloadError(
            f"the Hub refused access to {what} (HTTP {status})",
            hint="if the repo is private or gated, set HF_TOKEN to a token that can read it",
        )
    if status == 404 and endpoint:
        return DownloadError(f"{what} was not found on the Hub (HTTP 404)",
                             hint=f"check the name: its page would be {endpoint}/{what}")
    if status == 404:
        return DownloadError(f"{what} was not found on the Hub (HTTP 404)",
                             hint="the repo or file may have been renamed; "
                                  "`gpt2-adventure models convert` works from the checkpoint")
    return DownloadError(f"the Hub answered HTTP {status} for {what}",
                         hint="try again later")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
