"""Static files are served hashed and compressed (whitenoise's CompressedManifestStaticFilesStorage:
app.3f2a1c.css, with .br and .gz beside it, cached for a year as immutable). That needs
`collectstatic`, which hashes and compresses every file (~15 s of CPU here): `ensure_collected`
runs it only when a source file is newer than the last run's manifest, so `make run` and a test
session stay fast after the first."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders


def _newest_source() -> float:
    newest = 0.0
    for finder in get_finders():
        for path, storage in finder.list([]):
            try:
                newest = max(newest, os.stat(storage.path(path)).st_mtime)
            except (OSError, NotImplementedError):
                continue
    return newest


def manifest_path() -> Path:
    return Path(settings.STATIC_ROOT) / "staticfiles.json"


def is_stale() -> bool:
    manifest = manifest_path()
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source()


def ensure_collected(*, verbosity: int = 0) -> bool:
    """Run collectstatic if the collected files are missing or older than a source; True if it
    ran."""
    if not is_stale():
        return False
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=verbosity)
    manifest_path().touch()  # collectstatic keeps unchanged files' old mtimes
    return True
