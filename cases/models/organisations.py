"""Organisations and the people who act for them.

Cases belong to organisations, never to people (优化营商环境条例 Art 31: a change of officials does not
change an obligation): a user acts *for* an organisation in one role.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        CREDIT_CENTRE = "credit_centre", _("信用中心（平台）")
        DEPARTMENT = "department", _("行业主管部门")
        GOVERNMENT_BODY = "government_body", _("政府机构（整改主体）")
        SUPERVISOR = "supervisor", _("督办机构")
        SYSTEM = "system", _("系统运维")

    name = models.CharField(_("名称"), max_length=120, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    district = models.CharField(_("所属区县"), max_length=40, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    notice_prefix = models.CharField(
        _("文书编号前缀"), max_length=20, blank=True, help_text=_("例如“郑信”，用于文书编号。")
    )
    # Printed on notices as the department's 联系方式 (e.g. the 受理通知书), so the addressee knows whom to ask.
    contact_name = models.CharField(_("联系部门/联系人"), max_length=60, blank=True, default="")
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    PLATFORM_INTAKE = "platform_intake", _("信用中心受理员")
    PLATFORM_REVIEWER = "platform_reviewer", _("信用中心审核员")
    DEPT_HANDLER = "dept_handler", _("部门经办人")
    DEPT_LEADER = "dept_leader", _("部门负责人")
    GOV_BODY = "gov_body", _("政府机构联络人")
    SUPERVISOR = "supervisor", _("督办人员")
    ADMINISTRATOR = "administrator", _("系统管理员")


PLATFORM_ROLES = {Role.PLATFORM_INTAKE, Role.PLATFORM_REVIEWER}
DEPARTMENT_ROLES = {Role.DEPT_HANDLER, Role.DEPT_LEADER}
STAFF_ROLES = PLATFORM_ROLES | DEPARTMENT_ROLES | {Role.GOV_BODY, Role.SUPERVISOR, Role.ADMINISTRATOR}

# The organisation kind each staff role must belong to; applicants belong to none.
ROLE_ORGANISATION_KIND = {
    Role.PLATFORM_INTAKE: Organisation.Kind.CREDIT_CENTRE,
    Role.PLATFORM_REVIEWER: Organisation.Kind.CREDIT_CENTRE,
    Role.DEPT_HANDLER: Organisation.Kind.DEPARTMENT,
    Role.DEPT_LEADER: Organisation.Kind.DEPARTMENT,
    Role.GOV_BODY: Organisation.Kind.GOVERNMENT_BODY,
    Role.SUPERVISOR: Organisation.Kind.SUPERVISOR,
}


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.APPLICANT)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        expected = ROLE_ORGANISATION_KIND.get(self.role)
        if expected and (self.organisation is None or self.organisation.kind != expected):
            raise ValidationError(
                {
                    "organisation": _("角色“%(role)s”必须隶属于“%(kind)s”类型的机构。")
                    % {"role": self.get_role_display(), "kind": Organisation.Kind(expected).label}
                }
            )
        if self.role == Role.APPLICANT and self.organisation_id:
            raise ValidationError({"organisation": _("申请人不隶属于办理机构，请通过主体授权关联企业。")})

    @property
    def is_platform(self) -> bool:
        return self.role in PLATFORM_ROLES

    @property
    def is_department(self) -> bool:
        return self.role in DEPARTMENT_ROLES

    @property
    def is_applicant(self) -> bool:
        return self.role == Role.APPLICANT
