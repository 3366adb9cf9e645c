"""Local image files, read only inside configured folders (the data directory and
``MAPSEARCH_LOCAL_IMAGE_ROOTS``) and never through a symbolic link, so a record, a URL path or a
link planted in the images folder cannot make the server read another file."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from indexer.images.errors import UnsafeURL


def _inside(path: Path, root: Path) -> Path | None:
    """``path`` relative to ``root`` when it lies lexically inside it, else None."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return None
    return None if ".." in relative.parts else relative


def confined_file(path: str | Path, roots: Sequence[Path], base: Path | None = None) -> Path:
    """The file ``path`` names (relative paths are taken under ``base``, else the first root),
    if it lies inside one of ``roots`` with no symbolic link on the way; UnsafeURL otherwise."""
    candidate = Path(path)
    if ".." in candidate.parts:
        raise UnsafeURL(f"local image path {str(path)!r} may not contain '..'")
    absolute_roots = [Path(os.path.abspath(root)) for root in roots]
    if not candidate.is_absolute():
        candidate = Path(os.path.abspath((base or absolute_roots[0]) / candidate))
    for root in absolute_roots:
        relative = _inside(candidate, root)
        if relative is None:
            continue
        current = root
        for part in relative.parts:
            current = current / part
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    raise UnsafeURL(f"local image path {str(path)!r} goes through a symbolic link")
            except FileNotFoundError:
                return candidate  # reading it fails with "no such file" where it is read
        return candidate
    raise UnsafeURL(
        f"local image path {str(path)!r} is outside the configured image folders"
        " (the data directory and MAPSEARCH_LOCAL_IMAGE_ROOTS)"
    )


def read_confined(path: str | Path, roots: Sequence[Path], base: Path | None = None) -> bytes:
    """The bytes of ``confined_file(...)``, opened without following a final symbolic link."""
    target = confined_file(path, roots, base)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags)
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()
