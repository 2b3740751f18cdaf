from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo practice (`molar demo`): it loads data through every app's
    services, so it sits above them all and no app imports it."""

    name = "molar.demo"
    label = "demo"
