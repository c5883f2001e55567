from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("信用主体、信用记录与办件")

    def ready(self):
        from cases.services.audit import PRE_COMMIT_HANDLER, audit_append_batch
        from config.db.precommit import register

        # A transaction's audit events are sealed and appended just before its COMMIT (cases/services/audit.py).
        register(PRE_COMMIT_HANDLER, audit_append_batch)
