from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "molar.portal"
    label = "portal"
