from django.apps import AppConfig


class VolunteeringConfig(AppConfig):
    name = "warmstation.volunteering"
    label = "volunteering"
    verbose_name = "志愿服务 Volunteering"
