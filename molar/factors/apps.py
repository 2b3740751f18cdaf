from django.apps import AppConfig


class FactorsConfig(AppConfig):
    name = "molar.factors"
    verbose_name = "Second factors"
