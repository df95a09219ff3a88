from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "warmstation.stations"
    label = "stations"
    verbose_name = "暖心驿站 Warm stations"
