from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "molar.ops"
    label = "ops"
    verbose_name = "Operations"
