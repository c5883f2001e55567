"""Issued documents (文书): numbered, rendered to PDF once, immutable, verifiable, delivered."""

import copy

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.fields import acting_user

# What an issued notice says and proves. Once issued none of these may change (PROCEDURES.md, "Notices —
# common rules": issued notices are immutable; a correction is a new notice that supersedes the old one).
# Guarded here for saves through the model and by a database trigger for everything else
# (notices/migrations/_immutable_trigger.py).
IMMUTABLE_FIELDS = (
    "kind",
    "issuer_id",
    "year",
    "serial",
    "number",
    "content_type_id",
    "object_id",
    "trigger",
    "addressee_subject_id",
    "addressee_user_id",
    "addressee_organisation_id",
    "context",
    "pdf",
    "sha256",
    "verification_code",
    "issued_at",
    "supersedes_id",
)


# Titles of the registered kinds, filled by notices.kinds.register: the kinds live above the models (they
# read rule sets), so the model does not import them.
KIND_TITLES: dict[str, str] = {}


class NoticeImmutableError(Exception):
    """Raised on an attempt to change or delete an issued notice."""


class Notice(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待生成")
        # Has its number (recorded in the short transaction that took it), PDF not yet rendered.
        NUMBERED = "numbered", _("已编号，待生成")
        ISSUED = "issued", _("已签发")
        FAILED = "failed", _("生成失败")
        SUPERSEDED = "superseded", _("已被更正文书取代")

    kind = models.CharField(_("文书种类"), max_length=40)
    issuer = models.ForeignKey(
        "cases.Organisation", verbose_name=_("签发机构"), on_delete=models.PROTECT, related_name="issued_notices"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    serial = models.PositiveIntegerField(_("顺序号"), null=True, blank=True)
    number = models.CharField(_("文书编号"), max_length=60, blank=True)
    # The case (any procedure) and the event that triggered this notice: one notice per case, kind and
    # trigger, however often the job runs.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    trigger = models.CharField(_("触发事件"), max_length=60)
    addressee_subject = models.ForeignKey(
        "cases.Subject",
        verbose_name=_("受送达主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    addressee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受送达人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    # Departments, the credit centre and government bodies are addressees too (a 核查通知 to the information
    # provider, a 督办通知书 to the organisation holding a late clock): the notice lands in that organisation's
    # inbox, and the first opening by one of its members is the 送达 receipt, with that person's name.
    addressee_organisation = models.ForeignKey(
        "cases.Organisation",
        verbose_name=_("受送达机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_notices",
    )
    context = models.JSONField(_("文书内容数据"), default=dict)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    pdf = models.FileField(_("PDF文件"), upload_to="notices/%Y/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    verification_code = models.CharField(_("验证码"), max_length=16, blank=True)
    requested_at = models.DateTimeField(_("请求时间"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    issued_at = models.DateTimeField(_("签发时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    read_by = acting_user(_("签收人"))
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的原文书"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "kind", "trigger"], name="one_notice_per_case_kind_trigger"
            ),
            models.UniqueConstraint(
                fields=["issuer", "kind", "year", "serial"],
                name="gap_free_notice_serial",
                condition=Q(serial__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["requested_at"],
                name="notice_unclaimed_idx",
                condition=Q(status__in=["pending", "numbered"], claimed_at__isnull=True),
            ),
            models.Index(fields=["content_type", "object_id"]),
            models.Index(
                fields=["addressee_organisation", "requested_at"],
                name="notice_org_inbox_idx",
                condition=Q(addressee_organisation__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.kind} (#{self.pk})"

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded", None)
        if self.pk is not None and loaded and loaded.get("status") in (self.Status.ISSUED, self.Status.SUPERSEDED):
            now = self._snapshot()
            changed = [n for n in IMMUTABLE_FIELDS if n in loaded and now.get(n) != loaded[n]]
            allowed = {
                self.Status.ISSUED: {self.Status.ISSUED, self.Status.SUPERSEDED},
                self.Status.SUPERSEDED: {self.Status.SUPERSEDED},
            }[loaded["status"]]
            if changed or self.status not in allowed:
                raise NoticeImmutableError(
                    f"notice {self.number} is issued; cannot change {', '.join(changed) or 'status'} "
                    "(issue a correcting notice instead)"
                )
        super().save(*args, **kwargs)
        self._loaded = self._snapshot()

    def delete(self, *args, **kwargs):
        if self.is_issued:
            raise NoticeImmutableError(f"notice {self.number} is issued and cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def kind_title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)

    @property
    def is_issued(self) -> bool:
        return self.status in (self.Status.ISSUED, self.Status.SUPERSEDED)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = instance._snapshot()
        return instance

    def _snapshot(self) -> dict:
        # Only fields actually loaded: a deferred field is not read just to guard it (the trigger still does).
        names = [n for n in ("status", *IMMUTABLE_FIELDS) if n in self.__dict__]
        snap = {n: (self.pdf.name if n == "pdf" else self.__dict__[n]) for n in names}
        if "context" in snap:
            snap["context"] = copy.deepcopy(snap["context"])  # a dict edited in place must still show as changed
        return snap
