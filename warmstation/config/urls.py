from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from warmstation.config.api import api
from warmstation.config.hsds import hsds
from warmstation.core import views as core_views

admin.site.site_header = "37°C+ 暖心驿站 · 管理后台"
admin.site.site_title = "37°C+ 暖心驿站"
admin.site.login = core_views.admin_login_redirect  # type: ignore[method-assign]

urlpatterns = [
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("hsds/", hsds.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("warmstation.accounts.urls")),
    path("areas/", include("warmstation.areas.urls")),
    path("audit/", include("warmstation.accounts.urls_audit")),
    path("", include("warmstation.benefits.urls")),
    path("stations/", include("warmstation.stations.urls")),
    path("steward/", include("warmstation.stations.urls_steward")),
    path("appeals/", include("warmstation.appeals.urls")),
    path("notices/", include("warmstation.outreach.urls")),
    path("volunteer/", include("warmstation.volunteering.urls")),
    path("cards/", include("warmstation.documents.urls")),
    path("housing/", include("warmstation.housing.urls")),
    path("union/", include("warmstation.union.urls")),
    path("reports/", include("warmstation.reports.urls")),
    path("open311/v2/", include("warmstation.reports.urls_open311")),
    path("district/data/", include("warmstation.dashboard.urls_data")),
    path("district/", include("warmstation.dashboard.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", core_views.media, name="media"),
    ]

handler404 = "warmstation.core.views.page_not_found"
handler403 = "warmstation.core.views.permission_denied"
handler500 = "warmstation.core.views.server_error"
