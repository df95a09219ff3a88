from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "warmstation.points"
    label = "points"
    verbose_name = "积分 Points"
