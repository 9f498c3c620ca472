"""Fetch models from the Hugging Face Hub: catalog models, any GGUF repository, and
transformers checkpoints converted here.

``pull(paths, spec)`` takes a catalog name or ``owner/repo[:QUANT|:FILE.gguf]`` (``parse_spec``):

- a catalog entry that names its files: that file, found by name (no listing);
- a catalog entry made from a source (``Entry.source_quant``, the AI Dungeon 2 model): its
  repository is listed, the source GGUF downloaded and requantized here (``convert.requantize``)
  unless the source quant itself was asked for; only the file asked for is kept;
- a repository: listed (``HfApi.model_info`` with files metadata: one request, names, sizes,
  sha256), its GGUF picked by ``hub_files.pick_gguf`` and installed in
  ``models_dir/owner--repo/`` under its own name;
- with ``convert=True``, the checkpoint (the entry's ``checkpoint_repo`` or the repository):
  ``fetch_checkpoint`` downloads it to ``cache_dir/checkpoints/owner--repo/``,
  ``convert.convert_checkpoint`` makes the GGUF, and the checkpoint is deleted (6 GB for xl).

Every file goes through ``_download``, which does not use ``hf_hub_download``: in
huggingface_hub 2.x that writes to a temporary file with a per-process random name and
deletes it on any failure, so an interrupted download starts again from zero. Instead it uses
huggingface_hub's pieces (URL, metadata HEAD, its HTTP session and error types) and keeps
``<file>.<etag>.part`` until the bytes are complete and match the Hub's sha256; a GGUF's header
is then checked (``gguf_info.read_model_info``) and a file that is not a GPT-2 model is
deleted and refused, before anything is renamed into place.

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
from typing import NamedTuple
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

from gpt2_adventure.engine.models import catalog, hub_files, store
from gpt2_adventure.engine.models.gguf_header import HeaderError, read_header
from gpt2_adventure.engine.models.gguf_info import read_model_info
from gpt2_adventure.engine.models.hub_files import RepoFile
from gpt2_adventure.errors import DownloadError, ModelFileError, UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import gpt2_tokenizer_dir
from gpt2_adventure.units import size_text

Progress = Callable[[int, int], None]  # (bytes done, bytes total); raise in it to cancel
Report = Callable[[str], None]  # one line per stage: listing, downloading, requantizing...

DEFAULT_ENDPOINT = "https://huggingface.co"
LIBRARY = "gpt2-adventure"
# What a checkpoint converts to (convert.QUANT_TYPES, spelled as in file names); Q8_0 unless
# asked.
CONVERT_QUANTS = ("Q8_0", "Q6_K", "Q4_K_M", "F16", "F32")

_CHUNK = 1 << 20  # progress and cancellation granularity
_RETRIES = 5  # consecutive failed attempts without any new byte
_RETRY_WAIT = 1.0  # seconds, times the attempt number
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OFFLINE_HINT = (
    "play a GGUF file you already have with --model PATH, "
    "or build one from a local checkpoint with `gpt2-adventure models convert`"
)
_SPEC_HINT = "a catalog name (gpt2-adventure models list) or OWNER/REPO[:QUANT]"


class Spec(NamedTuple):
    """What ``pull`` was asked for: a catalog name or repo id, and a quant or file name."""

    name: str  # a catalog entry's name, or "owner/repo"
    quant: str | None  # canonical quant, a repository's .gguf file name, or None: the default

    @property
    def is_repo(self) -> bool:
        return "/" in self.name

    @property
    def file(self) -> str | None:
        """The repository file asked for by name (``owner/repo:FILE.gguf``), or None."""
        return self.quant if self.quant and hub_files.is_gguf_name(self.quant) else None

    def __str__(self) -> str:
        return f"{self.name}:{self.quant}" if self.quant else self.name


@dataclass(frozen=True)
class _Hub:
    endpoint: str
    token: str | None

    def headers(self) -> dict[str, str]:
        # token=None lets huggingface_hub fall back to a saved `hf auth login` token.
        return build_hf_headers(token=self.token, library_name=LIBRARY)


@dataclass(frozen=True)
class _Listing:
    repo_id: str  # as the Hub spells it
    commit: str | None  # downloads use this revision, so they match the listing
    files: tuple[RepoFile, ...]


def parse_spec(text: str, quant: str | None = None, *, convert: bool = False) -> Spec:
    """Check what a player typed for ``pull`` without touching the network.

    ``text`` is a catalog name or ``owner/repo``, either with ``:QUANT``; a repository also
    takes ``:FILE.gguf``. ``quant`` (``--quant``) may say the same as the suffix, not
    something else. With ``convert``, the quant is one a checkpoint converts to. Bad input is
    a UserError naming it.
    """
    text = text.strip()
    if not text:
        raise UserError("no model named", hint=_SPEC_HINT)
    name, sep, tail_text = text.partition(":")
    name, tail = name.strip(), tail_text.strip() if sep else None
    if tail == "":
        raise UserError(f"nothing after ':' in {text!r}", hint=_SPEC_HINT)
    if quant is not None and quant.strip():
        if tail is not None and tail.lower() != quant.strip().lower():
            raise UserError(f"two quantizations asked for: {tail} in {text!r} and --quant "
                            f"{quant.strip()}", hint="give one of them")
        tail = quant.strip()
    if "/" in name or "\\" in name:
        name = hub_files.check_repo_id(name)
        if tail is None or convert:
            return Spec(name, _convert_quant(tail) if convert else None)
        return Spec(name, tail if hub_files.is_gguf_name(tail) else hub_files.normalize_quant(tail))
    entry = catalog.lookup(name)
    if convert:
        return Spec(entry.name, _convert_quant(tail))
    return Spec(entry.name, None if tail is None else entry.normalize_quant(tail))


def _convert_quant(text: str | None) -> str | None:
    if text is None:
        return None
    quant = hub_files.normalize_quant(text) if hub_files.is_quant(text) else text
    if quant not in CONVERT_QUANTS:
        raise UserError(f"a checkpoint cannot be converted to {text!r}",
                        hint=f"choose one of {', '.join(CONVERT_QUANTS)}")
    return quant


def pull(
    paths: AppPaths,
    spec: str,
    quant: str | None = None,
    progress: Progress | None = None,
    *,
    convert: bool = False,
    report: Report | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> Path:
    """Install ``spec`` (a catalog name or ``owner/repo[:QUANT|:FILE.gguf]``, see
    ``parse_spec``) and return its .gguf file.

    An installed file is returned without downloading (a catalog file or an asked quant of a
    repository without touching the network). An interrupted download (network error,
    Ctrl-C, or an exception raised by ``progress`` to cancel) keeps its partial file, and the
    next call resumes it with an HTTP Range request. ``report`` gets one line per stage.
    Requantizing and converting cannot be cancelled halfway.
    """
    wanted = parse_spec(spec, quant, convert=convert)
    say: Report = report or _quiet
    if convert:
        return _pull_converted(paths, wanted, progress, say, endpoint, token)
    if wanted.is_repo:
        return _pull_repo(paths, wanted, progress, say, endpoint, token)
    entry = catalog.lookup(wanted.name)
    if entry.source_quant is not None:
        return _pull_made_here(paths, entry, wanted.quant, progress, say, endpoint, token)

    filename = entry.filename(wanted.quant)
    folder = store.model_dir(paths, entry.name)
    target = folder / filename
    if target.is_file():
        return _installed(target, progress)
    hub = _hub(endpoint, token)
    return _download(hub, entry.gguf_repo, filename, folder, progress, say,
                     install=_move_to(target))


def _pull_repo(paths: AppPaths, wanted: Spec, progress: Progress | None, say: Report,
               endpoint: str | None, token: str | None) -> Path:
    """A GGUF of any repository, by quant (QUANT_ORDER's first when none) or file name."""
    # Without the network: the quant asked for (Q8_0, the first choice, when none), or
    # offline anything installed from this repository.
    have = store.model_path(paths, wanted.name, wanted.quant or hub_files.QUANT_ORDER[0])
    if have is None and wanted.quant is None and _offline():
        have = store.model_path(paths, wanted.name)
    if have is not None:
        return _installed(have, progress)
    hub = _hub(endpoint, token)
    listing = _list_repo(hub, wanted.name, say)
    choice = hub_files.pick_gguf(listing.repo_id, listing.files, wanted.quant)
    folder = store.model_dir(paths, listing.repo_id)
    target = folder / choice.name
    if target.is_file():
        say(f"{listing.repo_id}/{choice.path} is installed")
        return _installed(target, progress)
    return _download(hub, listing.repo_id, choice.path, folder, progress, say,
                     install=_move_to(target), revision=listing.commit)


def _pull_made_here(paths: AppPaths, entry: catalog.Entry, quant: str | None,
                    progress: Progress | None, say: Report, endpoint: str | None,
                    token: str | None) -> Path:
    """A catalog model requantized here from its repository's ``source_quant`` GGUF."""
    source_quant = entry.source_quant
    assert source_quant is not None
    quant = entry.normalize_quant(quant)
    folder = store.model_dir(paths, entry.name)
    target = folder / entry.filename(quant)
    if target.is_file():
        return _installed(target, progress)
    kept_source = folder / entry.filename(source_quant)
    if kept_source.is_file():  # pulled with --quant F16 before: no download needed
        return _requantize(paths, kept_source, target, source_quant, quant, say, keep=True)
    hub = _hub(endpoint, token)
    listing = _list_repo(hub, entry.gguf_repo, say)
    source = hub_files.pick_gguf(listing.repo_id, listing.files, source_quant)

    def install(partial: Path) -> Path:
        if quant == source_quant:
            return _move_to(target)(partial)
        return _requantize(paths, partial, target, source_quant, quant, say)

    return _download(hub, listing.repo_id, source.path, folder, progress, say,
                     install=install, revision=listing.commit)


def _pull_converted(paths: AppPaths, wanted: Spec, progress: Progress | None, say: Report,
                    endpoint: str | None, token: str | None) -> Path:
    """A checkpoint downloaded, converted here, and deleted once converted."""
    quant = wanted.quant or catalog.DEFAULT_QUANT
    if wanted.is_repo:
        repo, name = wanted.name, wanted.name
        filename = f"{wanted.name.split('/')[1]}.{quant}.gguf"
    else:
        entry = catalog.lookup(wanted.name)
        repo, name = entry.checkpoint_repo, entry.name
        filename = entry.filename(quant) if quant in entry.quants else f"{name}.{quant}.gguf"
    folder = store.model_dir(paths, name)
    target = folder / filename
    if target.is_file():
        return _installed(target, progress)
    checkpoint = fetch_checkpoint(paths, repo, endpoint, token, progress=progress, report=say)

    from gpt2_adventure.engine.llama.logs import route_llama_logs
    from gpt2_adventure.engine.models.convert import convert_checkpoint

    route_llama_logs(paths.log_file)  # llama.cpp's quantizer logs: never on the terminal
    say(f"converting {repo} to {quant}")
    convert_checkpoint(checkpoint, target, quant.lower())
    size = sum(f.stat().st_size for f in checkpoint.rglob("*") if f.is_file())
    try:
        shutil.rmtree(checkpoint)
        say(f"deleted the downloaded checkpoint ({size_text(size)}); the GGUF is all it needs")
    except OSError as exc:
        say(f"could not delete the downloaded checkpoint {checkpoint}: {exc.strerror or exc}")
    return target


def checkpoint_dir(paths: AppPaths, repo_id: str) -> Path:
    return paths.cache_dir / "checkpoints" / hub_files.repo_folder(repo_id)


def fetch_checkpoint(
    paths: AppPaths,
    repo_id: str,
    endpoint: str | None = None,
    token: str | None = None,
    *,
    progress: Progress | None = None,
    report: Report | None = None,
) -> Path:
    """Download the transformers checkpoint of ``repo_id`` into ``checkpoint_dir``; return it.

    Takes config.json, the weights (model.safetensors or its shards and index, else
    pytorch_model.bin or its shards and index) and the tokenizer files that exist; a
    repository without tokenizer files gets GPT-2's own vocabulary (that of every GPT-2
    fine-tune). Each file is resumable and checked like a GGUF; files already complete are
    kept. Offline, a complete earlier download is returned as it is.
    """
    say: Report = report or _quiet
    target = checkpoint_dir(paths, repo_id)
    if _offline() and _checkpoint_complete(target):
        return target
    hub = _hub(endpoint, token)
    listing = _list_repo(hub, repo_id, say)
    files = hub_files.checkpoint_files(listing.repo_id, listing.files)
    total = sum(f.size or 0 for f in files)
    missing = [f for f in files
               if not ((target / f.name).is_file() and (target / f.name).stat().st_size == f.size)]
    if missing:
        say(f"downloading the checkpoint {listing.repo_id} "
            f"({size_text(sum(f.size or 0 for f in missing))}): "
            f"{', '.join(f.name for f in missing)}")
    before = 0
    for f in files:
        local = target / f.name
        if f in missing:

            def overall(done: int, _total: int, before: int = before) -> None:
                if progress:
                    progress(before + done, total)

            _download(hub, listing.repo_id, f.path, target, overall, _quiet,
                      install=_move_to(local), revision=listing.commit, gguf=False)
        before += f.size or 0
        if progress:
            progress(before, total)
    if not hub_files.has_tokenizer(p.name for p in target.iterdir()):
        say(f"{listing.repo_id} has no tokenizer files: using GPT-2's own vocabulary")
        for name in ("vocab.json", "merges.txt"):
            shutil.copyfile(gpt2_tokenizer_dir() / name, target / name)
    if not _checkpoint_complete(target):
        raise DownloadError(f"{repo_id} has no complete checkpoint (config.json, weights, "
                            "tokenizer)", where=target)
    return target


def _quiet(_message: str) -> None:
    pass


def _installed(target: Path, progress: Progress | None) -> Path:
    if progress:
        size = target.stat().st_size
        progress(size, size)
    return target


def _move_to(target: Path) -> Callable[[Path], Path]:
    def install(partial: Path) -> Path:
        os.replace(partial, target)
        return target

    return install


def _requantize(paths: AppPaths, source: Path, target: Path, source_quant: str, quant: str,
                say: Report, *, keep: bool = False) -> Path:
    """Write ``source`` again as ``quant`` to ``target``; delete ``source`` unless ``keep``."""
    from gpt2_adventure.engine.llama.logs import route_llama_logs
    from gpt2_adventure.engine.models.convert import requantize

    route_llama_logs(paths.log_file)  # llama.cpp's quantizer logs: never on the terminal
    say(f"requantizing {source_quant} \u2192 {quant}")
    requantize(source, target, quant.lower())
    if not keep:
        source.unlink()
    return target


def _list_repo(hub: _Hub, repo_id: str, say: Report) -> _Listing:
    """Every file of ``repo_id`` with its size and sha256 (one request)."""
    say(f"listing {repo_id}")
    with _download_errors(repo_id, hub.endpoint, repo=True):
        api = HfApi(endpoint=hub.endpoint, token=hub.token, library_name=LIBRARY)
        info = api.model_info(repo_id, files_metadata=True)
    files = tuple(
        RepoFile(s.rfilename, s.size, s.lfs.sha256 if s.lfs else None)
        for s in info.siblings or ()
        if hub_files.safe_path(s.rfilename)  # nothing may be installed outside its folder
    )
    canonical = info.id if isinstance(info.id, str) and hub_files.is_repo_id(info.id) else repo_id
    return _Listing(canonical, info.sha, files)


def _download(hub: _Hub, repo: str, path_in_repo: str, folder: Path,
              progress: Progress | None, say: Report, *, install: Callable[[Path], Path],
              revision: str | None = None, gguf: bool = True) -> Path:
    """Fetch ``repo``'s file into ``folder`` as a resumable ``.part``, check its size and
    sha256 (and with ``gguf`` that it is a GPT-2 GGUF), then hand it to ``install`` (which
    renames or requantizes it) while still holding the file's lock; return what it returns."""
    what = f"{repo}/{path_in_repo}"
    local = path_in_repo.rsplit("/", 1)[-1]
    with _download_errors(what, hub.endpoint):
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


def _checkpoint_complete(folder: Path) -> bool:
    if not (folder / "config.json").is_file():
        return False
    names = {p.name for p in folder.iterdir()}
    weights = any(n.endswith(".safetensors") or re.fullmatch(r"pytorch_model.*\.bin", n)
                  for n in names)
    unfinished = any(n.endswith(".part") for n in names)
    return hub_files.has_tokenizer(names) and weights and not unfinished


# -- errors ------------------------------------------------------------------------------


@contextmanager
def _download_errors(what: str, endpoint: str, repo: bool = False) -> Iterator[None]:
    """Turn huggingface_hub/httpx/disk errors into one-line DownloadErrors; ``repo``: ``what``
    is a repository being listed."""
    try:
        yield
    except DownloadError:
        raise
    except OfflineModeIsEnabled:  # HF_HUB_OFFLINE was set when huggingface_hub was imported
        raise _offline_error() from None
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
