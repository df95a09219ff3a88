from django.apps import AppConfig
from django.db.models.signals import pre_save


class CoreConfig(AppConfig):
    name = "warmstation.core"
    label = "core"
    verbose_name = "核心 Core"

    def ready(self) -> None:
        from django.apps import apps
        from django.urls import register_converter
        from django.utils.module_loading import autodiscover_modules

        from warmstation.core import audit, privacy
        from warmstation.core.inputs import IdConverter, model_value_check

        register_converter(IdConverter, "id")

        # Every model of ours, whichever app: core names none of them.
        for model in apps.get_models():
            if model.__module__.startswith("warmstation."):
                pre_save.connect(model_value_check, sender=model,
                                 dispatch_uid=f"value-check-{model._meta.label}")

        privacy.register("core", export=audit.audit_privacy_export,
                         erase=audit.audit_privacy_erase, covers=("core.auditevent",), order=90)
        # Each app's privacy.py registers its exporter and eraser (core imports no app by name).
        autodiscover_modules("privacy")
