from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "molar.patients"
    label = "patients"
