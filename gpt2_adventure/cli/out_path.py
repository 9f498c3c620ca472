"""The one rule for every ``--out FILE`` of the CLI (``saves export``, ``models convert``),
checked before any slow work:

- a folder is refused at once as a folder (``--force`` never makes a folder a file);
- the folder the file goes in must exist: it is never created (a typo in a path must not
  leave new folders about);
- only a regular file can be replaced (never a device such as ``/dev/null``), and only with
  ``--force``.
"""

from __future__ import annotations

from pathlib import Path

from gpt2_adventure.errors import UserError


def checked_out(out: Path, force: bool, option: str = "--out") -> Path:
    """``out`` (``~`` expanded) when a file may be written there; else a UserError."""
    path = out.expanduser()
    if path.is_dir():
        raise UserError(f"{option} is a folder; give a file name", path,
                        hint=f"e.g. {option} {path / 'NAME'}")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UserError(f"the folder for {option} {what}", folder,
                        hint="create the folder first, or write the file into an existing one")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise UserError(f"{option} is not a regular file; it cannot be replaced", path)
        if not force:
            raise UserError(f"{option} names a file that already exists", path,
                            hint="pass --force to overwrite it")
    return path
