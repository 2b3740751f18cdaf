from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "molar.messaging"
    label = "messaging"
    verbose_name = "Secure messages"
