"""Installed models and what a ``--model`` spec means.

A catalog model lives in ``models_dir/<name>/<file>.gguf``; a model pulled from a Hub
repository in ``models_dir/<owner>--<repo>/<file>.gguf`` and is named ``owner/repo``
(``hub_files``). Only complete files count: downloads write ``<file>.gguf.<etag>.part`` and
rename it to the final name after checking size, checksum and header, so a file ending in
``.gguf`` is a finished one. Hidden files (lock files) are never models either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gpt2_adventure.engine.models import catalog, hub_files
from gpt2_adventure.errors import ModelFileError, UserError
from gpt2_adventure.paths import AppPaths, has_separator, looks_like_path


@dataclass(frozen=True)
class InstalledModel:
    name: str  # a catalog name, "owner/repo" for a repository's model, else the folder's name
    quant: str | None  # None when the file name does not say
    path: Path
    size: int

    @property
    def repo(self) -> str | None:
        """The Hub repository it was pulled from by ``models pull OWNER/REPO``, or None."""
        return self.name if "/" in self.name else None


def model_dir(paths: AppPaths, name: str) -> Path:
    """The folder of model ``name`` (a catalog or folder name, or a repo id ``owner/repo``);
    refuses anything else, so the folder is always one level inside models_dir."""
    if "/" in name and hub_files.is_repo_id(name):
        return _repo_dir(paths, name)
    if name in ("", ".", "..") or has_separator(name) or "\0" in name:
        raise UserError(f"not a model name: {name!r}", hint="gpt2-adventure models list")
    entry = catalog.find(name)
    return paths.models_dir / (entry.name if entry else name)


def _repo_dir(paths: AppPaths, repo_id: str) -> Path:
    """``models_dir/owner--repo``; an installed folder whose name differs only in case (the
    Hub's ids are case-insensitive) is that repository's."""
    wanted = hub_files.repo_folder(repo_id)
    root = paths.models_dir
    if root.is_dir() and not (root / wanted).exists():
        for folder in root.iterdir():
            if folder.name.lower() == wanted.lower():
                return folder
    return root / wanted


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
    """The installed file of ``name`` (``quant`` if given -- a quantization or, for a
    repository's model, a .gguf file name -- else the preferred one), or None."""
    folder = model_dir(paths, name)
    if not folder.is_dir():
        return None
    models = _models_in(folder)
    if quant is not None and hub_files.is_gguf_name(quant):
        wanted = quant.rsplit("/", 1)[-1].lower()
        models = [m for m in models if m.path.name.lower() == wanted]
    elif quant is not None:
        models = [m for m in models if m.quant is not None and m.quant.lower() == quant.lower()]
    return models[0].path if models else None


def resolve_model(paths: AppPaths, spec: str | None, where: str | None = None) -> Path:
    """A ``--model`` value -> a .gguf path.

    ``spec`` is a catalog or installed name (optionally ``name:QUANT``), a repository's
    model ``owner/repo[:QUANT|:FILE.gguf]`` (an existing file of that name wins), or a path
    to a .gguf file; None or blank means the default model. ``where`` names where ``spec`` was set
    (the config file, GPT2_ADVENTURE_MODEL) in errors.
    """
    if spec is None or not spec.strip():
        spec, where = catalog.DEFAULT_MODEL, None
    spec = spec.strip()
    try:
        repo_spec = hub_files.split_repo_spec(spec)  # owner/repo[:QUANT]
    except UserError as error:
        raise UserError(error.message, where=where, hint=error.hint) from None
    if repo_spec is not None and not Path(spec).exists():  # an existing path wins
        return _installed_repo_model(paths, *repo_spec, where=where)
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
            hint="or an installed OWNER/REPO, "
                 "or play a GGUF file you already have with --model PATH",
        )
    canonical = entry.name if entry else name
    found = model_path(paths, canonical, quant or None)
    if found is not None:
        return found
    label = f"{canonical} ({quant})" if quant else canonical
    raise _not_installed(label, canonical, where)


def _installed_repo_model(paths: AppPaths, repo_id: str, quant: str | None,
                          where: str | None) -> Path:
    found = model_path(paths, repo_id, quant)
    if found is not None:
        return found
    spec = f"{repo_id}:{quant}" if quant else repo_id
    raise _not_installed(spec, spec, where)


def _not_installed(label: str, pull: str, where: str | None) -> UserError:
    return UserError(
        f"model {label} is not installed",
        where=where,
        hint=(f"pull it with `gpt2-adventure models pull {pull}`, "
              "or play a GGUF file you already have with --model PATH"),
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
    name = hub_files.repo_of_folder(folder.name) or folder.name
    models = [
        InstalledModel(name, _quant_of(folder.name, f.name), f, f.stat().st_size)
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
    return hub_files.quant_of(filename)


def _preference(model: InstalledModel) -> tuple[int, str, str]:
    return (hub_files.preference(model.quant), model.quant or "~", model.path.name)


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
