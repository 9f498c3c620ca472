"""Installed models (``models_dir/<name>/<file>.gguf``) and what a ``--model`` spec means.

Only complete files count: downloads write ``<file>.gguf.<etag>.part`` and rename it to the
final name after checking size and checksum, so a file ending in ``.gguf`` is a finished one.
Hidden files (lock files, huggingface_hub's ``.cache``) are never models either.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gpt2_adventure.engine.models import catalog
from gpt2_adventure.errors import ModelFileError, UserError
from gpt2_adventure.paths import AppPaths, has_separator, looks_like_path

# The quant at the end of a file name: gpt2.Q4_K_M.gguf, model-IQ4_XS.gguf, gpt2.f16.gguf.
_QUANT_IN_NAME = re.compile(r"(?:^|[.\-])(I?Q\d(?:_[0-9A-Z]+)*|BF16|F16|F32)$", re.IGNORECASE)


@dataclass(frozen=True)
class InstalledModel:
    name: str
    quant: str | None  # None when the file name does not say
    path: Path
    size: int


def model_dir(paths: AppPaths, name: str) -> Path:
    """The folder of model ``name``; refuses anything but one plain folder name."""
    if name in ("", ".", "..") or has_separator(name) or "\0" in name:
        raise UserError(f"not a model name: {name!r}", hint="gpt2-adventure models list")
    entry = catalog.find(name)
    return paths.models_dir / (entry.name if entry else name)


def installed(paths: AppPaths) -> list[InstalledModel]:
    """Every complete model file, by model name, preferred quant first."""
    root = paths.models_dir
    if not root.is_dir():
        return []
    found: list[InstalledModel] = []
    for folder in sorted(root.iterdir()):
        if not folder.name.startswith(".") and folder.is_dir():
            found.extend(_models_in(folder))
    return found


def model_path(paths: AppPaths, name: str, quant: str | None = None) -> Path | None:
    """The installed file of ``name`` (``quant`` if given, else the preferred one), or None."""
    folder = model_dir(paths, name)
    if not folder.is_dir():
        return None
    models = _models_in(folder)
    if quant is not None:
        models = [m for m in models if m.quant is not None and m.quant.lower() == quant.lower()]
    return models[0].path if models else None


def resolve_model(paths: AppPaths, spec: str | None, where: str | None = None) -> Path:
    """A ``--model`` value -> a .gguf path.

    ``spec`` is a catalog or installed name (optionally ``name:QUANT``), or a path to a
    .gguf file; None or blank means the default model. ``where`` names where ``spec`` was set
    (the config file, GPT2_ADVENTURE_MODEL) in errors.
    """
    if spec is None or not spec.strip():
        spec, where = catalog.DEFAULT_MODEL, None
    spec = spec.strip()
    if looks_like_path(spec.lower(), ".gguf", ("~", ".")):  # .GGUF too
        return _existing_file(Path(spec).expanduser())

    name, _, quant = spec.partition(":")
    entry = catalog.find(name)
    if entry is None and not model_dir(paths, name).is_dir():
        if Path(spec).exists():  # a bare file name without .gguf, in the current folder
            return _existing_file(Path(spec))
        raise UserError(
            f"unknown model {spec!r}; valid names: {', '.join(catalog.names())}",
            where=where,
            hint="or play a GGUF file you already have with --model PATH",
        )
    canonical = entry.name if entry else name
    found = model_path(paths, canonical, quant or None)
    if found is not None:
        return found
    label = f"{canonical} ({quant})" if quant else canonical
    raise UserError(
        f"model {label} is not installed",
        where=where,
        hint=(
            f"download it with `gpt2-adventure models pull {canonical}`, "
            "or play a GGUF file you already have with --model PATH"
        ),
    )


def remove(paths: AppPaths, name: str) -> list[Path]:
    """Delete model ``name``'s folder; returns what was deleted ([] if not installed).

    Symlinks are deleted as links, never followed, so nothing outside models_dir is touched.
    """
    folder = model_dir(paths, name)
    if folder.is_symlink():
        folder.unlink()
        return [folder]
    if not folder.is_dir():
        return []
    # model_dir allows one plain name only; check anyway before deleting anything.
    if folder.resolve().parent != paths.models_dir.resolve():
        raise UserError(f"refusing to delete {folder}: not inside {paths.models_dir}")
    removed: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False, followlinks=False):
        here = Path(dirpath)
        for filename in filenames:
            (here / filename).unlink()
            removed.append(here / filename)
        for dirname in dirnames:
            sub = here / dirname
            if sub.is_symlink():  # os.walk lists links to folders here without entering them
                sub.unlink()
                removed.append(sub)
            else:
                sub.rmdir()
    folder.rmdir()
    return sorted(removed)


def _models_in(folder: Path) -> list[InstalledModel]:
    models = [
        InstalledModel(folder.name, _quant_of(folder.name, f.name), f, f.stat().st_size)
        for f in folder.iterdir()
        if _is_model_file(f)
    ]
    return sorted(models, key=_preference)


def _is_model_file(path: Path) -> bool:
    # Partial downloads end in .part (huggingface_hub's in .incomplete): never a model.
    name = path.name
    return not name.startswith(".") and name.lower().endswith(".gguf") and path.is_file()


def _quant_of(model: str, filename: str) -> str | None:
    entry = catalog.find(model)
    if entry is not None:
        for quant, known in entry.files.items():
            if known == filename:
                return quant
    match = _QUANT_IN_NAME.search(filename[: -len(".gguf")])
    return match.group(1).upper() if match else None


def _preference(model: InstalledModel) -> tuple[int, str, str]:
    quants = catalog.QUANTS
    rank = quants.index(model.quant) if model.quant in quants else len(quants)
    return (rank, model.quant or "~", model.path.name)


def _existing_file(path: Path) -> Path:
    if path.is_dir():
        inside = sorted(path.glob("*.gguf"))
        hint = f"pass the file itself, e.g. --model {inside[0]}" if inside else "pass a .gguf file"
        raise ModelFileError("this is a folder, not a .gguf model file", where=path, hint=hint)
    if not path.exists():
        raise ModelFileError(
            "model file not found",
            where=path,
            hint="check the path, or use a model name from `gpt2-adventure models list`",
        )
    return path
