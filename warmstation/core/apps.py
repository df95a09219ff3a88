from django.apps import AppConfig
from django.db.models.signals import pre_save


class CoreConfig(AppConfig):
    name = "warmstation.core"
    label = "core"
    verbose_name = "核心 Core"

    def ready(self) -> None:
        from django.apps import apps

        from warmstation.core.inputs import model_text_check

        # Every model of ours, whichever app: core names none of them.
        for model in apps.get_models():
            if model.__module__.startswith("warmstation."):
                pre_save.connect(model_text_check, sender=model,
                                 dispatch_uid=f"text-check-{model._meta.label}")
