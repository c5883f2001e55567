from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("流程、日历、时限与规则")

    def ready(self):
        from workflows import checks  # noqa: F401  (registers the calendar system check)
