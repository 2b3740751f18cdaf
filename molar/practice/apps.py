from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "molar.practice"
    label = "practice"
