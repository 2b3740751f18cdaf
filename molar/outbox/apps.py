from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "molar.outbox"
    label = "outbox"
    verbose_name = "Email outbox"
