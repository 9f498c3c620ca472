"""Hugging Face repositories as `models pull OWNER/REPO[:QUANT]` sees them: what a repo id may
be, where its model is installed, which of its files is the GGUF to fetch, and which files make
a checkpoint. Pure: the listing comes from ``download``; nothing here touches the network.

The stable name of a model pulled from a repository is its repo id, ``owner/repo``; its files
live in ``models_dir/owner--repo/``. The Hub forbids ``--`` inside repo ids, so the folder
name maps back to exactly one id, and a valid id never makes a path that leaves models_dir.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gpt2_adventure.errors import UserError
from gpt2_adventure.units import size_text

# The quantization `models pull OWNER/REPO` takes when none is asked for: the first one the
# repository has, in this order. Q8_0 plays like F16 for GPT-2 at half the size; then smaller
# files of falling quality (Q6_K, Q5_K_M, Q4_K_M); then the unquantized ones, twice as large
# and slower (F16, BF16, F32). Other quantizations found in file names (Q5_K_S, IQ4_XS,
# Q4_0...) are taken only when asked for by name. The store prefers installed files in this
# order too.
QUANT_ORDER = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "F16", "BF16", "F32")

# A quantization as llama.cpp's tools write it into file names: Q8_0, Q4_K_M, IQ4_XS, IQ4_NL,
# TQ1_0, Q4_0_4_4, BF16, F16/FP16, F32/FP32 (any case).
_QUANT = r"(?:[IT]?Q[1-8](?:_(?:\d|K|XXS|XS|NL|[SML]))*|BF16|FP?16|FP?32)"
_QUANT_TOKEN = re.compile(rf"(?<![A-Za-z0-9])({_QUANT})(?![A-Za-z0-9])", re.IGNORECASE)
_QUANT_ONLY = re.compile(_QUANT, re.IGNORECASE)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
# One part of a repo id, as the Hub allows it: letters, digits, "-", "_", "."; no "-" or "."
# at either end; at most 96 characters (and no "--" or ".." anywhere, checked apart).
_ID_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\\:]")
_SHOWN = 8  # files named in a message before "and N more"

_ID_RULES = ("OWNER/REPO, each part letters, digits, '-', '_' and '.', not starting or ending "
             "with '-' or '.', no '--' or '..', at most 96 characters")


@dataclass(frozen=True)
class RepoFile:
    """One file of a repository listing."""

    path: str  # inside the repository, "/"-separated
    size: int | None = None
    sha256: str | None = None  # of the content, for files stored in LFS

    @property
    def name(self) -> str:
        """The file name without its folder: the name it is installed under."""
        return self.path.rsplit("/", 1)[-1]

    def described(self) -> str:
        return f"{self.path} ({size_text(self.size)})" if self.size else self.path


# -- repo ids ------------------------------------------------------------------------------


def is_repo_id(text: str) -> bool:
    """Is ``text`` an ``owner/repo`` id the Hub would accept (so one safe folder name too)?"""
    owner, sep, name = text.partition("/")
    return (bool(sep) and _ID_PART.fullmatch(owner) is not None
            and _ID_PART.fullmatch(name) is not None
            and "--" not in text and ".." not in text and not name.lower().endswith(".git"))


def check_repo_id(text: str) -> str:
    """``text`` if it is a valid repo id, else a UserError naming the rules."""
    if not is_repo_id(text):
        raise UserError(f"not a Hugging Face repository id: {text!r}", hint=_ID_RULES)
    return text


def repo_folder(repo_id: str) -> str:
    """The folder name under models_dir of repository ``repo_id``: ``owner--repo``."""
    return check_repo_id(repo_id).replace("/", "--", 1)


def repo_of_folder(folder: str) -> str | None:
    """The repo id a models_dir folder holds (``owner--repo`` -> ``owner/repo``), or None."""
    owner, sep, name = folder.partition("--")
    repo_id = f"{owner}/{name}"
    return repo_id if sep and is_repo_id(repo_id) else None


# -- quantizations -------------------------------------------------------------------------


def quant_of(filename: str) -> str | None:
    """The quantization a file name states (its last one), in llama.cpp's upper-case spelling:
    ``gpt2.Q8_0.gguf``, ``model-q8_0.gguf`` -> Q8_0; ``ggml-model-f16.gguf``, ``X-FP16.gguf``
    -> F16; None when the name does not say."""
    stem = _SPLIT.sub("", filename.rsplit("/", 1)[-1])  # drops "-00001-of-00002.gguf" too
    if stem.lower().endswith(".gguf"):
        stem = stem[: -len(".gguf")]
    found = _QUANT_TOKEN.findall(stem)
    return _canonical(found[-1]) if found else None


def is_quant(text: str) -> bool:
    return _QUANT_ONLY.fullmatch(text.strip()) is not None


def normalize_quant(text: str) -> str:
    """A quantization as typed (``q4_k_m``, ``fp16``) -> its canonical spelling, else a
    UserError."""
    if not is_quant(text):
        raise UserError(f"not a quantization: {text!r}",
                        hint="e.g. Q8_0, Q6_K, Q4_K_M or F16; or name a .gguf file of the "
                             "repository (OWNER/REPO:FILE.gguf)")
    return _canonical(text.strip())


def is_gguf_name(text: str) -> bool:
    return text.lower().endswith(".gguf")


def _canonical(quant: str) -> str:
    quant = quant.upper()
    return {"FP16": "F16", "FP32": "F32"}.get(quant, quant)


def preference(quant: str | None) -> int:
    """Where ``quant`` stands in QUANT_ORDER (unknown ones after all of it)."""
    return QUANT_ORDER.index(quant) if quant in QUANT_ORDER else len(QUANT_ORDER)


# -- specs ---------------------------------------------------------------------------------


def split_repo_spec(text: str) -> tuple[str, str | None] | None:
    """``owner/repo[:QUANT|:FILE.gguf]`` -> (repo id, quant or file name, or None); None when
    ``text`` is not shaped like one (a catalog name, a path: more than one "/", a name ending
    in .gguf). A repo id with a bad tail is a UserError."""
    repo_id, sep, tail = text.strip().partition(":")
    if not is_repo_id(repo_id) or is_gguf_name(repo_id):
        return None
    if not sep:
        return repo_id, None
    tail = tail.strip()
    if not tail:
        raise UserError(f"nothing after ':' in {text.strip()!r}",
                        hint="OWNER/REPO:QUANT, e.g. owner/repo:Q8_0")
    return repo_id, tail if is_gguf_name(tail) else normalize_quant(tail)


# -- picking the GGUF ----------------------------------------------------------------------


def safe_path(path: str) -> bool:
    """Can a listed file be fetched and installed under its name without leaving its folder?"""
    parts = path.split("/")
    return bool(path) and not _UNSAFE_NAME.search(path) and all(
        part and part not in (".", "..") for part in parts) and not parts[-1].startswith(".")


def pick_gguf(repo_id: str, files: Sequence[RepoFile], wanted: str | None = None) -> RepoFile:
    """The GGUF of ``repo_id`` to download: the one named ``wanted`` (a file name), the one of
    quantization ``wanted``, or with None the first of QUANT_ORDER the repository has (its only
    GGUF when it has one of another kind). Anything else is a UserError saying what is there."""
    ggufs = [f for f in files if is_gguf_name(f.path) and "mmproj" not in f.name.lower()]
    if not ggufs:
        raise _no_gguf(repo_id, files)
    if wanted is not None and is_gguf_name(wanted):
        return _by_name(repo_id, ggufs, wanted)

    by_quant: dict[str | None, list[RepoFile]] = {}
    for f in ggufs:
        by_quant.setdefault(quant_of(f.name), []).append(f)
    if wanted is not None:
        quant = normalize_quant(wanted)
        if quant not in by_quant:
            raise UserError(f"{repo_id} has no {quant} GGUF; it has {_quants_text(by_quant)}",
                            hint=f"choose one: gpt2-adventure models pull {repo_id}:QUANT")
        return _one(repo_id, quant, by_quant[quant])
    for quant in QUANT_ORDER:
        if quant in by_quant:
            return _one(repo_id, quant, by_quant[quant])
    if len(ggufs) == 1 or len({_split_set(f) for f in ggufs}) == 1:
        return _one(repo_id, None, ggufs)
    raise UserError(f"{repo_id} has several GGUFs, none of them {', '.join(QUANT_ORDER)}: "
                    f"{_files_text(ggufs)}",
                    hint=f"choose one: gpt2-adventure models pull {repo_id}:FILE.gguf")


def _by_name(repo_id: str, ggufs: Sequence[RepoFile], wanted: str) -> RepoFile:
    exact = [f for f in ggufs if wanted in (f.path, f.name)]
    found = exact or [f for f in ggufs if wanted.lower() in (f.path.lower(), f.name.lower())]
    if not found:
        raise UserError(f"{repo_id} has no file {wanted}; its GGUFs: {_files_text(ggufs)}")
    if len(found) > 1:
        raise UserError(f"{repo_id} has {len(found)} files called {wanted}: "
                        f"{_files_text(found)}",
                        hint=f"name one with its folder: {repo_id}:{found[0].path}")
    return _one(repo_id, None, found)


def _one(repo_id: str, quant: str | None, candidates: Sequence[RepoFile]) -> RepoFile:
    """The single file among ``candidates`` (all of one quantization), or a UserError."""
    whole = [f for f in candidates if _SPLIT.search(f.name) is None]
    if not whole:
        first = sorted(candidates, key=lambda f: f.path)[0]
        split = _SPLIT.search(first.name)
        parts = int(split.group(2)) if split else len(candidates)  # (none is whole: all split)
        raise UserError(f"{repo_id}/{first.path} is split into {parts} files; gpt2-adventure "
                        "loads single-file GGUFs only (a GPT-2 never needs more than one)")
    if len(whole) > 1:
        label = f"{quant} GGUFs" if quant else "GGUFs"
        raise UserError(f"{repo_id} has {len(whole)} {label}: {_files_text(whole)}",
                        hint=f"choose one: gpt2-adventure models pull {repo_id}:FILE.gguf, "
                             f"e.g. {repo_id}:{whole[0].name}")
    return whole[0]


def _split_set(f: RepoFile) -> str:
    return _SPLIT.sub("", f.path)


def _no_gguf(repo_id: str, files: Sequence[RepoFile]) -> UserError:
    weights = _weight_files(files)
    if weights:
        return UserError(f"{repo_id} has no GGUF, only a checkpoint ({_names(weights)}); "
                         f"pull it with --convert",
                         hint=f"gpt2-adventure models pull {repo_id} --convert")
    if not files:
        return UserError(f"{repo_id} has no files")
    return UserError(f"{repo_id} has no GGUF file; it holds {_names(files)}")


# -- checkpoints ---------------------------------------------------------------------------

_TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json")
_SHARDS = {
    "model.safetensors.index.json": re.compile(r"model-\d+-of-\d+\.safetensors"),
    "pytorch_model.bin.index.json": re.compile(r"pytorch_model-\d+-of-\d+\.bin"),
}


def checkpoint_files(repo_id: str, files: Sequence[RepoFile]) -> list[RepoFile]:
    """The files of a transformers GPT-2 checkpoint to fetch from the top of ``repo_id``:
    config.json, the weights (model.safetensors, else its shards and index, else
    pytorch_model.bin or its shards and index) and whichever tokenizer files exist. A
    repository without config.json or weights is a UserError."""
    top = {f.path: f for f in files if "/" not in f.path}
    if "config.json" not in top:
        raise UserError(f"{repo_id} has no config.json: not a transformers checkpoint")
    weights = _weight_files(files)
    if not weights:
        raise UserError(f"{repo_id} has no checkpoint weights "
                        "(model.safetensors or pytorch_model.bin)")
    tokenizer = [top[name] for name in _TOKENIZER_FILES if name in top]
    return [top["config.json"], *weights, *tokenizer]


def has_tokenizer(names: Iterable[str]) -> bool:
    names = set(names)
    return "tokenizer.json" in names or {"vocab.json", "merges.txt"} <= names


def _weight_files(files: Sequence[RepoFile]) -> list[RepoFile]:
    """The weights of the checkpoint at the top of the listing (safetensors first), or []."""
    top = {f.path: f for f in files if "/" not in f.path}
    for single, index in (("model.safetensors", "model.safetensors.index.json"),
                          ("pytorch_model.bin", "pytorch_model.bin.index.json")):
        if single in top:
            return [top[single]]
        if index in top:
            shards = [f for name, f in sorted(top.items()) if _SHARDS[index].fullmatch(name)]
            if shards:
                return [top[index], *shards]
    return []


# -- messages ------------------------------------------------------------------------------


def _quants_text(by_quant: dict[str | None, list[RepoFile]]) -> str:
    known = sorted((q for q in by_quant if q), key=lambda q: (preference(q), q))
    parts = [f"{q} ({_files_text(by_quant[q])})" for q in known]
    if None in by_quant:
        parts.append(f"other GGUFs ({_files_text(by_quant[None])})")
    return ", ".join(parts)


def _files_text(files: Sequence[RepoFile]) -> str:
    shown = [f.described() for f in sorted(files, key=lambda f: f.path)[:_SHOWN]]
    more = len(files) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _names(files: Sequence[RepoFile]) -> str:
    names = [f.path for f in files[:_SHOWN]]
    more = len(files) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")
