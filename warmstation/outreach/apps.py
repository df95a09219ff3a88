from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "warmstation.outreach"
    label = "outreach"
    verbose_name = "通知与外发 Outreach and outbox"

    def ready(self):
        from warmstation.core.readiness import readiness_register
        from warmstation.outreach.selectors import outbox_depth

        readiness_register("outbox", outbox_depth)
