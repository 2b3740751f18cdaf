from django.apps import AppConfig


class StaffAuthConfig(AppConfig):
    name = "molar.staffauth"
    verbose_name = "Staff sign-in"
