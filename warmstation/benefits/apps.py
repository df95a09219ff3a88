from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "warmstation.benefits"
    label = "benefits"
    verbose_name = "优惠与兑换 Benefits"
