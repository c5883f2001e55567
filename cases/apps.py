from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("信用主体、信用记录与办件")

    def ready(self):
        from django.db.models.signals import post_migrate, post_save
        from viewflow.workflow.models import Task

        from cases.services import inbox, supervision_summary
        from cases.services.audit import PRE_COMMIT_HANDLER, audit_append_batch
        from config.db.precommit import register
        from workflows.models import Clock

        # A transaction's audit events are sealed and appended just before its COMMIT (cases/services/audit.py).
        register(PRE_COMMIT_HANDLER, audit_append_batch, last=True)
        # The inbox rows' due moments follow the clocks a transaction changed, once, before its COMMIT.
        register(inbox.DUE_HANDLER, inbox.inbox_sync_due_batch)
        # The dashboard summary's triggers follow the procedure registry: installed (and the summary rebuilt)
        # after every migrate, and after a test flush (cases/services/supervision_summary.py).
        post_migrate.connect(supervision_summary.install_after_migrate, sender=self, dispatch_uid="supsum_install")
        post_save.connect(inbox.on_task_saved, sender=Task, dispatch_uid="inbox_task_saved")
        post_save.connect(inbox.on_clock_saved, sender=Clock, dispatch_uid="inbox_clock_saved")
