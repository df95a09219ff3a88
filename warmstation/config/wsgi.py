import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warmstation.config.settings")
application = get_wsgi_application()

# Import every view and API and compile our templates now, while the worker starts, rather than
# in the first requests after each start (core/warmup.py).
from django.conf import settings  # noqa: E402

from warmstation.core.warmup import warm_up  # noqa: E402

if not settings.DEBUG:
    warm_up()
