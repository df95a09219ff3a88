import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warmstation.config.settings")
application = get_wsgi_application()

# Import every view and API now, while the worker starts, rather than in the first request
# (measured: ~0.5 s on this machine, paid by whoever comes first after each start).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 — evaluating it imports the URLconf
