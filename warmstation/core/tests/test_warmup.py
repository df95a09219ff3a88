"""A server process compiles the project's templates while it starts (core/warmup.py)."""

from django.template import engines

from warmstation.core.warmup import our_template_names, warm_up


def test_every_one_of_our_templates_compiles_at_start_and_is_cached_for_the_first_request():
    names = our_template_names()
    assert "base.html" in names and "dashboard/dashboard.html" in names
    assert not any(n.startswith("admin/") for n in names)  # Django's own: at first use
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    done = warm_up()
    assert done["templates"] == len(names)  # none failed to compile
    cached = set(loader.get_template_cache)  # keyed by the name (and dirs skipped, if any)
    assert set(names) <= cached
