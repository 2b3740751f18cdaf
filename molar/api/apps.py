from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "molar.api"
    label = "api"
