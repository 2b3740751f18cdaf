from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "molar.audit"
    label = "audit"
