from django.apps import AppConfig


class OpenDentalConfig(AppConfig):
    name = "molar.opendental"
    label = "opendental"
    verbose_name = "Open Dental sync"
