"""Fetch model files from the Hugging Face Hub: resumable GGUF pulls and GPT-2 checkpoints.

``pull`` does not use ``hf_hub_download``: in huggingface_hub 2.x it writes to a temporary
file with a per-process random name and deletes it on any failure, so an interrupted download
starts again from zero. Instead it uses huggingface_hub's pieces (URL, metadata HEAD, its
HTTP session and error types) and keeps ``<file>.<etag>.part`` until the bytes are complete and
match the Hub's sha256, then renames it into place.

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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import filelock
import httpx2
from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
)
from huggingface_hub.utils import WeakFileLock, build_hf_headers, get_session, hf_raise_for_status

from gpt2_adventure.engine.models import catalog, store
from gpt2_adventure.errors import DownloadError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.units import size_text

Progress = Callable[[int, int], None]  # (bytes done, bytes total)

DEFAULT_ENDPOINT = "https://huggingface.co"
LIBRARY = "gpt2-adventure"

# Files of a GPT-2 checkpoint that `models convert` reads; never pytorch_model.bin, tf, flax, onnx.
CHECKPOINT_FILES = [
    "config.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "vocab.json",
    "merges.txt",
    "tokenizer.json",
]

_CHUNK = 1 << 20  # progress and cancellation granularity
_RETRIES = 5  # consecutive failed attempts without any new byte
_RETRY_WAIT = 1.0  # seconds, times the attempt number
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OFFLINE_HINT = (
    "play a GGUF file you already have with --model PATH, "
    "or build one from a local checkpoint with `gpt2-adventure models convert`"
)


@dataclass(frozen=True)
class _Hub:
    endpoint: str
    token: str | None

    def headers(self) -> dict[str, str]:
        # token=None lets huggingface_hub fall back to a saved `hf auth login` token.
        return build_hf_headers(token=self.token, library_name=LIBRARY)


def pull(
    paths: AppPaths,
    name: str,
    quant: str | None = None,
    progress: Progress | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> Path:
    """Download catalog model ``name`` into ``models_dir/<name>/`` and return the file.

    An installed file is returned without touching the network. An interrupted download
    (network error, Ctrl-C, or an exception raised by ``progress`` to cancel) keeps its
    partial file, and the next call resumes it with an HTTP Range request.
    """
    entry = catalog.lookup(name)
    filename = entry.filename(quant)
    folder = store.model_dir(paths, entry.name)
    target = folder / filename
    if target.is_file():
        size = target.stat().st_size
        if progress:
            progress(size, size)
        return target

    hub = _hub(endpoint, token)
    what = f"{entry.gguf_repo}/{filename}"
    with _download_errors(what, hub.endpoint):
        url = hf_hub_url(entry.gguf_repo, filename, endpoint=hub.endpoint)
        meta = get_hf_file_metadata(
            url, token=hub.token, endpoint=hub.endpoint, library_name=LIBRARY
        )
        if meta.size is None or meta.etag is None:
            raise DownloadError(f"the Hub did not give the size and checksum of {what}")
        headers = hub.headers()
        if _origin(meta.location) != _origin(url):
            headers.pop("authorization", None)  # never send the token to a CDN
        folder.mkdir(parents=True, exist_ok=True)
        with _exclusive(folder / f".{filename}.lock", what):
            partial = folder / f"{filename}.{_tag(meta.etag)}.part"
            _drop_other_partials(folder, filename, keep=partial)
            _fetch(meta.location, headers, partial, meta.size, progress)
            _verify(partial, meta.size, meta.etag, what)
            os.replace(partial, target)
    return target


def checkpoint_dir(paths: AppPaths, repo_id: str) -> Path:
    return paths.cache_dir / "checkpoints" / repo_id.replace("/", "--")


def fetch_checkpoint(
    paths: AppPaths, repo_id: str, endpoint: str | None = None, token: str | None = None
) -> Path:
    """Download the safetensors checkpoint files of ``repo_id`` that exist; return the folder.

    Offline, a complete earlier download is returned as it is.
    """
    target = checkpoint_dir(paths, repo_id)
    if _offline() and _checkpoint_complete(target):
        return target
    hub = _hub(endpoint, token)
    with _download_errors(repo_id, hub.endpoint):
        snapshot_download(
            repo_id,
            local_dir=target,
            allow_patterns=CHECKPOINT_FILES,
            ignore_patterns=["*/*"],  # top-level files only (onnx/ has its own config.json)
            endpoint=hub.endpoint,
            token=hub.token,
            library_name=LIBRARY,
            tqdm_class=_SilentBar,  # type: ignore[arg-type]  # no bars on a TUI's stderr
        )
    if not _checkpoint_complete(target):
        raise DownloadError(
            f"{repo_id} has no complete safetensors checkpoint (config.json, weights, tokenizer)",
            where=target,
        )
    return target


# -- the pieces of a pull ----------------------------------------------------------------


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _offline_error() -> DownloadError:
    return DownloadError("no network: HF_HUB_OFFLINE is set, so nothing can be downloaded",
                         hint=_OFFLINE_HINT)


def _hub(endpoint: str | None, token: str | None) -> _Hub:
    if _offline():
        raise _offline_error()
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    return _Hub(endpoint.rstrip("/"), token or os.environ.get("HF_TOKEN") or None)


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




def _checkpoint_complete(folder: Path) -> bool:
    if not (folder / "config.json").is_file():
        return False
    tokenizer = (folder / "tokenizer.json").is_file() or (
        (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
    )
    weights = any(folder.glob("*.safetensors"))
    unfinished = any((folder / ".cache").rglob("*.incomplete"))
    return tokenizer and weights and not unfinished


# -- errors ------------------------------------------------------------------------------


@contextmanager
def _download_errors(what: str, endpoint: str) -> Iterator[None]:
    """Turn huggingface_hub/httpx/disk errors into one-line DownloadErrors."""
    try:
        yield
    except DownloadError:
        raise
    except OfflineModeIsEnabled:  # HF_HUB_OFFLINE was set when huggingface_hub was imported
        raise _offline_error() from None
    except HfHubHTTPError as exc:
        raise _http_error(exc, what) from None
    except (httpx2.ConnectError, httpx2.ConnectTimeout, LocalEntryNotFoundError) as exc:
        raise DownloadError(f"no network: cannot reach {endpoint} ({_first_line(exc)})",
                            hint=_OFFLINE_HINT) from None
    except httpx2.TransportError as exc:
        raise DownloadError(f"download of {what} was interrupted: {_first_line(exc)}",
                            hint="run the same command again to resume it") from None
    except OSError as exc:  # after the HTTP errors above, which are OSErrors too
        raise DownloadError(f"cannot write the download: {exc.strerror or exc}",
                            where=exc.filename, hint="check free space and permissions") from None


def _http_error(exc: HfHubHTTPError, what: str) -> DownloadError:
    status = exc.response.status_code if exc.response is not None else None
    if status in (401, 403) or isinstance(exc, GatedRepoError):
        return DownloadError(
            f"the Hub refused access to {what} (HTTP {status})",
            hint="if the repo is private or gated, set HF_TOKEN to a token that can read it",
        )
    if status == 404:
        return DownloadError(f"{what} was not found on the Hub (HTTP 404)",
                             hint="the repo or file may have been renamed; "
                                  "`gpt2-adventure models convert` works from the checkpoint")
    return DownloadError(f"the Hub answered HTTP {status} for {what}",
                         hint="try again later")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _SilentBar:
    """Enough of tqdm for snapshot_download's bars, drawing nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.n = kwargs.get("initial", 0) or 0
        self.total = kwargs.get("total")
        self.format_dict: dict[str, Any] = {}

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: float | None = 1) -> None:
        self.n += n or 0

    def __getattr__(self, name: str) -> Callable[..., None]:
        # refresh, close, set_description(_str), set_postfix_str...: nothing to draw.
        def ignore(*args: Any, **kwargs: Any) -> None:
            return None

        return ignore
