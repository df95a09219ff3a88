from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "warmstation.outreach"
    label = "outreach"
    verbose_name = "通知与外发 Outreach and outbox"
