"""What a server process does while it starts, so that the first person after a start or a
deploy does not pay for it: import every view and API (the URLconf), compile every one of our
templates into the cached template loader and load each language's translations. Measured on
the district dashboard (bench_dashboard.py, first GET of the page in new processes that both
answered a /healthz first): medians of ~190 ms with the warm-up against ~230 ms without over
four pairs at small scale, 278 against 282 ms at 0.4 of national scale — a small saving for
the first person at best, paid once per worker at start (~1–1.5 s of CPU here).

`wsgi.py` calls `warm_up()` once per worker process; the development server (DEBUG) does not,
so a restart there stays quick."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("warmstation.warmup")


def our_template_names() -> list[str]:
    """The names of the project's own templates (its template folder and each app's), as
    `get_template` takes them; Django's and third-party packages' are left to their first use."""
    from django.template import engines
    from django.template.backends.django import DjangoTemplates

    root = Path(settings.BASE_DIR) / "warmstation"
    names: set[str] = set()
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for name in engine.template_dirs:
            folder = Path(name)
            if not folder.is_dir() or root not in (folder, *folder.parents):
                continue
            for path in folder.rglob("*"):
                if path.is_file() and path.suffix in (".html", ".txt", ".xml", ".svg"):
                    names.add(path.relative_to(folder).as_posix())
    return sorted(names)


def warm_up() -> dict[str, float]:
    """Import the URLconf and compile our templates; seconds each took. A template that does
    not compile is logged, not raised (its page will show the error when asked for)."""
    from django.template import TemplateSyntaxError, engines
    from django.urls import get_resolver

    t0 = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018 — evaluating it imports the URLconf
    t1 = time.perf_counter()
    engine = engines["django"]
    compiled = 0
    for name in our_template_names():
        try:
            engine.get_template(name)
            compiled += 1
        except TemplateSyntaxError:
            logger.exception("template %s does not compile", name)
    t2 = time.perf_counter()
    from django.utils.translation import trans_real

    for code, _name in settings.LANGUAGES:  # each language's catalogs, merged over every app
        trans_real.translation(code)
    t3 = time.perf_counter()
    logger.info("warmed up: URLs in %.2f s, %d templates in %.2f s, catalogs in %.2f s",
                t1 - t0, compiled, t2 - t1, t3 - t2)
    return {"urls_s": t1 - t0, "templates_s": t2 - t1, "templates": compiled,
            "catalogs_s": t3 - t2}
