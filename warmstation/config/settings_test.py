"""Test settings: tasks run at once (so the outbox delivers inside the test), cheap hashing."""

from warmstation.config.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                     "QUEUES": TASK_QUEUES}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite serves static files as production does (hashed, compressed): collected once into
# their own folder, again only when a source changed (conftest.py, core/staticfiles.py).
STATIC_ROOT = VAR_DIR / "static-test"  # noqa: F405
WHITENOISE_USE_FINDERS = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
