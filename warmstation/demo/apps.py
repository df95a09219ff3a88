from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The Fangshan demo data and its commands (seed_demo, totp_now). On top of every app: it
    calls their services, and nothing imports it."""

    name = "warmstation.demo"
    label = "demo"
    verbose_name = "演示数据 Demo data"
