"""Is this file the notice that was issued? Its SHA-256 against the issued record, and its PAdES signature
(signer, signing time, integrity, chain to a trusted CA). Used by the public page and the public API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from io import BytesIO

from pyhanko.sign.validation.status import SignatureCoverageLevel


@dataclass
class FileCheck:
    hash_matches: bool
    signed: bool = False
    signature_intact: bool = False
    signature_trusted: bool = False
    signer: str = ""
    signed_at: object = None
    problems: list[str] = field(default_factory=list)

    @property
    def is_original(self) -> bool:
        return self.hash_matches and self.signed and self.signature_intact

    def signature_dict(self) -> dict:
        return {
            "signed": self.signed,
            "intact": self.signature_intact,
            "trusted": self.signature_trusted,
            "signer": self.signer,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
        }


def verify_upload(*, notice, data: bytes) -> FileCheck:
    check = FileCheck(hash_matches=hashlib.sha256(data).hexdigest() == notice.sha256)
    validate_signature(data, check)
    return check


def validate_signature(data: bytes, check: FileCheck) -> FileCheck:
    """Fill ``check`` with what the file's last signature says. Never raises on a bad file: a file that is
    not a PDF, or not signed, is simply not the original."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from notices.pki import trust_roots

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 — not a PDF (or a broken one): not the original either way
        check.problems.append("unreadable")
        return check
    if not signatures:
        check.problems.append("unsigned")
        return check
    check.signed = True
    sig = signatures[-1]
    try:
        roots = [asn1_cert(c) for c in trust_roots()]
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
    except Exception:  # noqa: BLE001
        check.problems.append("invalid")
        return check
    # Intact: the signed bytes are unchanged; and the signature covers the whole file (nothing appended).
    check.signature_intact = bool(
        status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    )
    check.signature_trusted = bool(status.trusted)
    cert = status.signing_cert
    check.signer = cert.subject.native.get("common_name", "") if cert is not None else ""
    check.signed_at = status.signer_reported_dt
    return check


def asn1_cert(cert):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
