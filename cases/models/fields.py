"""Field types the models share."""

from django.conf import settings
from django.db import models


def acting_user(verbose_name, **options) -> models.ForeignKey:
    """The person who did something to the row (filed, signed, decided, read …). Optional: a system job acts
    too, and a step not taken yet has nobody. PROTECT: an account that acted is never deleted out from under
    the record of what it did (accounts are deactivated instead). No reverse accessor: nobody asks a user for
    everything they touched this way (the audit trail answers that)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **options,
    )
