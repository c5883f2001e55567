"""Request and response shapes of API v1. Validation messages are Chinese msgids (translated for detail_en)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from cases.models import ApiScope, OutboxEvent, RecordKind, Severity
from cases.models.outbox import TOPIC_LABELS
from cases.models.records import DisplayState, Sector

# --- shared ---------------------------------------------------------------------------------------------


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    detail = serializers.CharField()
    detail_en = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with the English text beside the Chinese."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    detail_en = serializers.CharField()
    instance = serializers.CharField()
    errors = ProblemErrorSerializer(many=True)


# --- records --------------------------------------------------------------------------------------------


class SubjectRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    code = serializers.CharField(help_text="统一社会信用代码；个人为脱敏的身份证号")


class RecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    sector = serializers.CharField()
    title = serializers.CharField()
    decision_number = serializers.CharField()
    content = serializers.CharField()
    legal_basis = serializers.CharField()
    decision_date = serializers.DateField()
    publication_date = serializers.DateField()
    display_min_until = serializers.DateField(allow_null=True)
    display_max_until = serializers.DateField(allow_null=True)
    repairable = serializers.BooleanField()
    display_state = serializers.ChoiceField(choices=DisplayState.choices)
    display_state_label = serializers.CharField(source="get_display_state_display")
    provider = serializers.CharField(source="provider.name")
    updated_at = serializers.DateTimeField()

    @extend_schema_field(SubjectRefSerializer)
    def get_subject(self, record) -> dict:
        return {"name": record.subject.name, "code": record.subject.public_identifier}


# Whom a new record is about: found or created by its code (cases.api.views._subject_for). (Comments, not
# docstrings: drf-spectacular would show a base's docstring as the description of the request body.)
class RecordSubjectSerializer(serializers.Serializer):
    subject_name = serializers.CharField(max_length=200, label=_("信用主体名称"))
    subject_code = serializers.CharField(
        max_length=30, label=_("统一社会信用代码或身份证号"), help_text="统一社会信用代码（18位）或居民身份证号（18位）"
    )


# What a department states in a record: one set of fields, limits and choices for a new record and for a
# correction of one.
class RecordContentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RecordKind.choices, label=_("信息类别"))
    severity = serializers.ChoiceField(choices=Severity.choices, label=_("失信程度"))
    sector = serializers.ChoiceField(choices=[("", "")] + list(Sector.choices), required=False, default="")
    title = serializers.CharField(max_length=200, label=_("事项名称"))
    decision_number = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)
    content = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)
    legal_basis = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    decision_date = serializers.DateField(label=_("决定日期"))
    publication_date = serializers.DateField(label=_("公示日期"))


class RecordCreateSerializer(RecordSubjectSerializer, RecordContentSerializer):
    repairable = serializers.BooleanField(required=False, default=True)


class RecordCorrectionSerializer(RecordContentSerializer):
    """更正 (Henan Art 41): the fields to change and why."""

    reason = serializers.CharField(max_length=500, label=_("变更原因"))
    case_reference = serializers.CharField(max_length=60, required=False, default="", allow_blank=True)

    def get_fields(self):
        # A correction names only what it changes: every content field optional, and none filled in by default.
        fields = super().get_fields()
        for name in RecordContentSerializer._declared_fields:
            fields[name].required = False
            fields[name].default = empty
        return fields


class RecordRevocationSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, label=_("撤销原因"))
    case_reference = serializers.CharField(max_length=60, required=False, default="", allow_blank=True)


# --- cases, tasks, notices ------------------------------------------------------------------------------


class NoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField(source="kind_title")
    number = serializers.CharField()
    status = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField()


class CaseSerializer(serializers.Serializer):
    procedure = serializers.CharField()
    tracking_number = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    subject = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)


class CaseDetailSerializer(CaseSerializer):
    notices = NoticeSerializer(many=True)


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    procedure = serializers.CharField()
    tracking_number = serializers.CharField(allow_null=True)
    step = serializers.CharField()
    created = serializers.DateTimeField()


# --- platform -------------------------------------------------------------------------------------------


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    topic = serializers.CharField()
    topic_label = serializers.CharField()
    dedupe_key = serializers.CharField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    payload = serializers.JSONField()
    status = serializers.ChoiceField(choices=OutboxEvent.Status.choices)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.URLField(max_length=500, label=_("推送地址"))
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(TOPIC_LABELS)), required=False, default=list, max_length=50
    )
    created_at = serializers.DateTimeField(read_only=True)
    active = serializers.BooleanField(read_only=True)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="HMAC-SHA256 签名密钥，只在创建时返回一次")


# --- commitments ----------------------------------------------------------------------------------------


class CommitmentRowSerializer(serializers.Serializer):
    """One commitment as in the import template (PROCEDURES.md §3)."""

    subject_name = serializers.CharField(max_length=200)
    identifier = serializers.CharField(max_length=30, help_text="统一社会信用代码或居民身份证号")
    matter_code = serializers.CharField(max_length=60)
    signer_name = serializers.CharField(max_length=60)
    signer_capacity = serializers.CharField(max_length=40)
    signed_on = serializers.CharField(max_length=20, help_text="YYYY-MM-DD")
    decision_date = serializers.CharField(max_length=20, required=False, allow_blank=True)
    decision_number = serializers.CharField(max_length=80, required=False, allow_blank=True)
    source_reference = serializers.CharField(max_length=80, required=False, allow_blank=True)


class CommitmentBatchRequestSerializer(serializers.Serializer):
    commitments = CommitmentRowSerializer(many=True)


class CommitmentBatchSerializer(serializers.Serializer):
    batch = serializers.IntegerField(allow_null=True, help_text="每行均已导入过时为null（未新建批次）")
    created = serializers.IntegerField()
    subjects_created = serializers.IntegerField()
    events = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="此前已导入、本次未重复写入的行数")


# --- public ---------------------------------------------------------------------------------------------


class VerificationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    number = serializers.CharField(allow_blank=True)
    title = serializers.CharField(allow_blank=True)
    issuer = serializers.CharField(allow_blank=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField(allow_blank=True)
    sha256 = serializers.CharField(allow_blank=True)
    file_matches = serializers.BooleanField(allow_null=True)
    signature = serializers.JSONField(allow_null=True)


SCOPE_CHOICES = ApiScope.choices


def page_of(child):
    """The cursor-paginated list of ``child`` (DRF CursorPagination: next, previous, results)."""
    name = child.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}ListSerializer",
        (serializers.Serializer,),
        {
            "next": serializers.CharField(allow_null=True, help_text="下一页地址（游标）"),
            "previous": serializers.CharField(allow_null=True),
            "results": child(many=True),
            "__module__": __name__,
        },
    )


class TrackSerializer(serializers.Serializer):
    found = serializers.BooleanField()
    procedure = serializers.CharField(allow_blank=True)
    tracking_number = serializers.CharField(allow_blank=True)
    state_label = serializers.CharField(allow_blank=True)
    step = serializers.IntegerField(allow_null=True)
    steps = serializers.IntegerField(allow_null=True)
    step_label = serializers.CharField(allow_blank=True)
    received_on = serializers.DateField(allow_null=True)
    closed_on = serializers.DateField(allow_null=True)
