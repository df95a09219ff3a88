"""Open311 GeoReport v2 (reports/open311.py): each endpoint in .xml and .json."""

from django.urls import re_path

from warmstation.reports import open311

app_name = "open311"
F = r"\.(?P<fmt>xml|json)$"
urlpatterns = [
    re_path(r"^discovery" + F, open311.discovery, name="discovery"),
    re_path(r"^services" + F, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[A-Za-z0-9_\-]{1,32})" + F, open311.service_definition,
            name="service"),
    re_path(r"^requests" + F, open311.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[0-9]{1,18})" + F, open311.request_detail,
            name="request"),
    re_path(r"^tokens/(?P<token>[A-Za-z0-9]{1,64})" + F, open311.token, name="token"),
    re_path(r"^servicerequestupdates" + F, open311.updates, name="updates"),
    re_path(r"^(?P<rest>.*)$", open311.not_found, name="not_found"),
]
