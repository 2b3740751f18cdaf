from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """A key that acts for one staff user, with that user's permissions.

    Only a SHA-256 digest of the key is stored: the key has 256 bits from
    `secrets`, so a slow hash would add nothing against guessing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
