from django.apps import AppConfig


class SheetsConfig(AppConfig):
    name = "molar.sheets"
    label = "sheets"
    verbose_name = "Sheets"
