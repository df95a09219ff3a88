from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "warmstation.accounts"
    label = "accounts"
    verbose_name = "账户与角色 Accounts and roles"

    def ready(self) -> None:
        from warmstation.accounts import signals

        signals.connect()
