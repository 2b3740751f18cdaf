from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """What the portal's tabs show (SPEC L7): account, treatment plans, health
    summary, documents; entered by staff, read by patients."""

    name = "molar.records"
    label = "records"
    verbose_name = "Clinical and account records"
