from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "warmstation.reports"
    label = "reports"
    verbose_name = "随手拍 Snap-and-report"
