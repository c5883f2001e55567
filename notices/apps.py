from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("文书")

    def ready(self):
        # Registering the kinds fills notices.models.KIND_TITLES, which notice pages read.
        from notices import kinds  # noqa: F401
