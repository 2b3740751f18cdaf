from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "molar.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        # The deploy checks read several apps (practice settings, the audit
        # key): registered from operations, which sits above them.
        from molar import checks  # noqa: F401
