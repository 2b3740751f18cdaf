from django.apps import AppConfig


class EhrConfig(AppConfig):
    name = "molar.ehr"
    label = "ehr"
