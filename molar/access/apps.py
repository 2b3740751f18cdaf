from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "molar.access"
    label = "access"
