from django.apps import AppConfig


class InvitesConfig(AppConfig):
    name = "molar.invites"
    label = "invites"
