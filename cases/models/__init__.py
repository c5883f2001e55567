from cases.models.api import ApiClient, ApiScope, IdempotencyRecord, WebhookDelivery, WebhookSubscription
from cases.models.attachments import Attachment, CaseActivity
from cases.models.audit import AuditChainHead, AuditEvent
from cases.models.base import CaseBase, NumberSequence
from cases.models.commitment import (
    Commitment,
    CommitmentImport,
    CommitmentMatter,
    CommitmentType,
    CommitmentVerification,
    DecisionRevocation,
    VerificationState,
)
from cases.models.inbox import Delegation, InboxItem
from cases.models.messages import Message, MessageKind, MessagePreference, PhoneCode
from cases.models.objection import ObjectionCase, ObjectionOutcome, ObjectionState
from cases.models.organisations import Organisation, Role, User
from cases.models.outbox import OutboxEvent
from cases.models.records import CreditRecord, DisplayState, RecordChange, RecordKind, Severity
from cases.models.rectification import (
    EscalationStep,
    LeadSource,
    OrganisationDigest,
    RectificationCase,
    RectificationReport,
    RectificationState,
)
from cases.models.repair import RepairApplication, RepairBar, RepairKind, RepairState
from cases.models.subjects import Subject, SubjectAuthorisation, SubjectKind
from cases.models.submissions import FormSubmission
from cases.models.supervision import (
    SupervisionClearing,
    SupervisionDisclosure,
    SupervisionLateness,
    SupervisionOpen,
    SupervisionTimeUsed,
)

__all__ = [
    "ApiClient",
    "ApiScope",
    "IdempotencyRecord",
    "WebhookDelivery",
    "WebhookSubscription",
    "Attachment",
    "CaseActivity",
    "FormSubmission",
    "SupervisionClearing",
    "SupervisionDisclosure",
    "SupervisionLateness",
    "SupervisionOpen",
    "SupervisionTimeUsed",
    "Commitment",
    "CommitmentImport",
    "CommitmentMatter",
    "CommitmentType",
    "CommitmentVerification",
    "DecisionRevocation",
    "VerificationState",
    "EscalationStep",
    "LeadSource",
    "OrganisationDigest",
    "RectificationCase",
    "RectificationReport",
    "RectificationState",
    "RepairApplication",
    "RepairBar",
    "RepairKind",
    "RepairState",
    "AuditChainHead",
    "AuditEvent",
    "CaseBase",
    "Delegation",
    "InboxItem",
    "CreditRecord",
    "DisplayState",
    "NumberSequence",
    "Message",
    "MessageKind",
    "MessagePreference",
    "PhoneCode",
    "ObjectionCase",
    "ObjectionOutcome",
    "ObjectionState",
    "Organisation",
    "OutboxEvent",
    "RecordChange",
    "RecordKind",
    "Role",
    "Severity",
    "Subject",
    "SubjectAuthorisation",
    "SubjectKind",
    "User",
]

# 好差评 (issue 12 item 6).
from cases.models.ratings import CaseRating, Grade, RatingFollowUp  # noqa: E402

__all__ += ["CaseRating", "Grade", "RatingFollowUp"]

# 信用报告 (issue 12 item 7).
from cases.models.reports import CreditReport  # noqa: E402

__all__ += ["CreditReport"]
