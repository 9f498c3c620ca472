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

Every file goes through ``hub_transfer.download``: resumable, sha256-checked, and a GGUF's
header checked before it is installed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from gpt2_adventure.engine.models import catalog, hub_files, hub_transfer, store
from gpt2_adventure.engine.models.hub_transfer import Progress, Report
from gpt2_adventure.errors import DownloadError, UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import gpt2_tokenizer_dir
from gpt2_adventure.units import size_text

# What a checkpoint converts to (convert.QUANT_TYPES, spelled as in file names); Q8_0 unless
# asked.
CONVERT_QUANTS = ("Q8_0", "Q6_K", "Q4_K_M", "F16", "F32")
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
    hub = hub_transfer.hub(endpoint, token)
    return hub_transfer.download(hub, entry.gguf_repo, filename, folder, progress, say,
                     install=_move_to(target))


def _pull_repo(paths: AppPaths, wanted: Spec, progress: Progress | None, say: Report,
               endpoint: str | None, token: str | None) -> Path:
    """A GGUF of any repository, by quant (QUANT_ORDER's first when none) or file name."""
    # Without the network: the quant asked for (Q8_0, the first choice, when none), or
    # offline anything installed from this repository.
    have = store.model_path(paths, wanted.name, wanted.quant or hub_files.QUANT_ORDER[0])
    if have is None and wanted.quant is None and hub_transfer.offline():
        have = store.model_path(paths, wanted.name)
    if have is not None:
        return _installed(have, progress)
    hub = hub_transfer.hub(endpoint, token)
    listing = hub_transfer.list_repo(hub, wanted.name, say)
    choice = hub_files.pick_gguf(listing.repo_id, listing.files, wanted.quant)
    folder = store.model_dir(paths, listing.repo_id)
    target = folder / choice.name
    if target.is_file():
        say(f"{listing.repo_id}/{choice.path} is installed")
        return _installed(target, progress)
    return hub_transfer.download(hub, listing.repo_id, choice.path, folder, progress, say,
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
    hub = hub_transfer.hub(endpoint, token)
    listing = hub_transfer.list_repo(hub, entry.gguf_repo, say)
    source = hub_files.pick_gguf(listing.repo_id, listing.files, source_quant)

    def install(partial: Path) -> Path:
        if quant == source_quant:
            return _move_to(target)(partial)
        return _requantize(paths, partial, target, source_quant, quant, say)

    return hub_transfer.download(hub, listing.repo_id, source.path, folder, progress, say,
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
    if hub_transfer.offline() and _checkpoint_complete(target):
        return target
    hub = hub_transfer.hub(endpoint, token)
    listing = hub_transfer.list_repo(hub, repo_id, say)
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

            hub_transfer.download(hub, listing.repo_id, f.path, target, overall, _quiet,
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


def _checkpoint_complete(folder: Path) -> bool:
    if not (folder / "config.json").is_file():
        return False
    names = {p.name for p in folder.iterdir()}
    weights = any(n.endswith(".safetensors") or re.fullmatch(r"pytorch_model.*\.bin", n)
                  for n in names)
    unfinished = any(n.endswith(".part") for n in names)
    return hub_files.has_tokenizer(names) and weights and not unfinished
