"""Shared fixtures: a small area tree, people with roles, and clients signed in at a level."""

import pytest
from django.core.cache import cache

from tests.factories import build_area_tree


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit guards live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # The test client's LocaleMiddleware leaves the last request's language active in the
    # thread; code run outside a request (tasks, services) must not inherit it from the test
    # that ran before. Each test starts in the default language, as a fresh process does.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded files of a test live and die with the test.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tree(db):
    """District 110111 → streets GC (拱辰) and XL (西潞) → communities YLJ (under GC) and SZ
    (under XL), each with contacts."""
    return build_area_tree()


@pytest.fixture(autouse=True, scope="session")
def _sqlite_flush_past_append_only_triggers():
    """SQLite has no TRUNCATE: Django empties tables after a transactional test with DELETE,
    which the append-only triggers (points ledger, audit trail) refuse, as they must. The test
    run's flush takes the sanctioned owner's path instead: the triggers are dropped, the tables
    emptied and the triggers created again, in one database transaction."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    DatabaseOperations = type(connection.ops)  # noqa: N806
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
        drop = [f'DROP TRIGGER "{name}";' for name, _sql in triggers]
        create = [f"{sql};" for _name, sql in triggers]
        return original(self, [*drop, *sql_list, *create])

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original

@pytest.fixture(scope="session", autouse=True)
def _static_collected(django_test_environment):
    # Pages link hashed static names (CompressedManifestStaticFilesStorage): collect once, and
    # again only when a source changed (core/staticfiles.py).
    # The suite runs in several processes (pytest-xdist, `make test`): one collects, the
    # others wait for it on the lock and then find the collection fresh.
    import fcntl

    from django.conf import settings

    from warmstation.core.staticfiles import ensure_collected

    with open(settings.VAR_DIR / ".collectstatic.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_collected()


# -- the task tests over the real broker (tests/brokered.py, ADR 0014) --------------------------

def pytest_generate_tests(metafunc):
    # A test marked `tasks` runs twice: with the immediate backend, and with the Redis backend
    # and a real worker process ([redis]).
    if metafunc.definition.get_closest_marker("tasks"):
        metafunc.parametrize("_task_backend", ["immediate", "redis"], indirect=True)


def pytest_collection_modifyitems(items):
    # The worker process reads what the test committed: the [redis] variant runs in a
    # transactional database (pytest-django honours this marker over the `db` fixture).
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("_task_backend") == "redis":
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(autouse=True)
def _task_backend(request):
    if getattr(request, "param", "immediate") != "redis":
        yield "immediate"
        return
    from django.db import connection

    from tests import brokered

    if connection.vendor != "postgresql":
        pytest.skip("the [redis] task variant needs PostgreSQL: its worker process opens the "
                    "test database, which on SQLite lives in this process's memory")
    if reason := brokered.redis_unreachable():
        pytest.skip(reason)
    settings = request.getfixturevalue("settings")
    settings.TASKS = brokered.backend_settings()
    brokered.keep_test_transaction_semantics(request.getfixturevalue("monkeypatch"))
    yield "redis"
    brokered.forget(settings.TASKS["default"]["OPTIONS"])


@pytest.fixture
def django_capture_on_commit_callbacks(_task_backend):
    """pytest-django's fixture (TestCase.captureOnCommitCallbacks), and its equivalent for the
    [redis] variant's transactional database: the block runs in a transaction whose on-commit
    callbacks are taken out before it commits, so they run only when `execute=True` says so,
    after the commit (when a worker can see the rows), as in a test wrapped in a transaction."""
    import django.test

    if _task_backend != "redis":
        return django.test.TestCase.captureOnCommitCallbacks
    from tests.brokered import capture_on_commit_callbacks

    return capture_on_commit_callbacks
