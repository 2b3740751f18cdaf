from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "molar.practice"
    label = "practice"

    def ready(self):
        from molar import checks  # noqa: F401  (registers the deploy checks)
