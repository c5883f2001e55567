from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.identifiers import mask_id_number, validate_id_number, validate_uscc
from cases.models.fields import acting_user


class SubjectKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL = "individual", _("自然人")
    GOVERNMENT_BODY = "government_body", _("政府机构")
    OTHER_ORGANISATION = "other_org", _("其他组织")


class Subject(models.Model):
    """A credit subject (信用主体): whoever public credit information is about."""

    kind = models.CharField(_("主体类型"), max_length=20, choices=SubjectKind.choices)
    name = models.CharField(_("名称/姓名"), max_length=200)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True, validators=[validate_uscc]
    )
    # Stored in full for matching records to people (个人信息 is masked in every view, see privacy.py).
    id_number = models.CharField(
        _("居民身份证号码"), max_length=18, null=True, blank=True, unique=True, validators=[validate_id_number]
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=60, blank=True)
    address = models.CharField(_("住所"), max_length=200, blank=True)
    district = models.CharField(_("所属区县"), max_length=40, blank=True)
    # A government body as a subject of 政务失信 records is also an organisation that acts in the system.
    organisation = models.OneToOneField(
        "cases.Organisation",
        verbose_name=_("对应机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subject",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用主体")
        verbose_name_plural = _("信用主体")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="individual") | Q(id_number__isnull=False),
                name="individual_has_id_number",
            ),
            models.CheckConstraint(
                condition=Q(kind="individual") | Q(uscc__isnull=False),
                name="organisation_has_uscc",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    @property
    def public_identifier(self) -> str:
        """What the credit website shows: the full code for organisations, a masked number for people."""
        return self.uscc or self.masked_id_number


class SubjectAuthorisation(models.Model):
    """An applicant user may act for a subject: its legal representative, staff, or an agent."""

    class Basis(models.TextChoices):
        SELF = "self", _("本人")
        LEGAL_REPRESENTATIVE = "legal_rep", _("法定代表人")
        EMPLOYEE = "employee", _("经办员工")
        AGENT = "agent", _("受托代理人（授权委托书）")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="authorisations"
    )
    subject = models.ForeignKey(
        Subject, verbose_name=_("信用主体"), on_delete=models.CASCADE, related_name="authorisations"
    )

    class Scope(models.TextChoices):
        # What a 经办人 may do for the subject (issue 12): one procedure, or everything.
        ALL = "all", _("全部事项")
        REPAIR = "repair", _("信用修复")
        OBJECTION = "objection", _("异议申诉")
        COMMITMENT = "commitment", _("信用承诺")

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        # An authorisation not granted by the legal representative: the credit centre checks the 授权委托书.
        PENDING = "pending", _("待信用中心审核")
        REFUSED = "refused", _("审核未通过")

    basis = models.CharField(_("授权依据"), max_length=20, choices=Basis.choices)
    scope = models.CharField(_("授权范围"), max_length=12, choices=Scope.choices, default=Scope.ALL)
    status = models.CharField(_("审核状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    granted_by = acting_user(_("授权人"))
    reviewed_by = acting_user(_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True, null=True)

    class Meta:
        verbose_name = _("主体授权")
        verbose_name_plural = _("主体授权")
        constraints = [models.UniqueConstraint(fields=["user", "subject"], name="one_authorisation_per_pair")]
        indexes = [
            models.Index(fields=["requested_at"], name="authorisation_pending_idx", condition=Q(status="pending"))
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.subject}"

    def covers(self, procedure: str | None) -> bool:
        return self.scope == self.Scope.ALL or (procedure is not None and self.scope == procedure)
