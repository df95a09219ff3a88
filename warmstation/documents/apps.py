from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "warmstation.documents"
    label = "documents"
    verbose_name = "印刷品 Service cards and handbooks"

    def ready(self) -> None:
        from warmstation.documents.signals import connect

        connect()
