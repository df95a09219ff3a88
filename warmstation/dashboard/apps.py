from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "warmstation.dashboard"
    label = "dashboard"
    verbose_name = "区级视图 District view"
