"""PAdES-B-B signatures on issued notices (pyHanko), with the issuing organisation's key and certificate.

Called on the rendered bytes in the render step, after the number is assigned: whatever fails here fails the
issue (the notice stays pending and is retried, then marked failed and alerted) — a notice is never issued
unsigned. The hash recorded on the notice is that of the signed file.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from notices.pki import SigningUnavailable, org_credentials

__all__ = ["SigningUnavailable", "sign_pdf"]


def _signer(organisation):
    if settings.NOTICE_SIGNING_PKCS11_MODULE:
        # Production with an HSM or USB key: the private key never leaves the token (README, "Signed notices").
        from pyhanko.sign import pkcs11

        session = pkcs11.open_pkcs11_session(
            settings.NOTICE_SIGNING_PKCS11_MODULE,
            token_label=settings.NOTICE_SIGNING_PKCS11_TOKEN,
            user_pin=settings.NOTICE_SIGNING_PKCS11_PIN,
        )
        return pkcs11.PKCS11Signer(session, key_label=f"org-{organisation.pk}", cert_label=f"org-{organisation.pk}")
    creds = org_credentials(organisation)
    signer = signers.SimpleSigner.load(
        str(creds.key_path),
        str(creds.cert_path),
        ca_chain_files=(str(creds.ca_path),) if creds.ca_path.is_file() else (),
    )
    if signer is None:
        raise SigningUnavailable(f"could not load the signing key of {organisation}")
    return signer


def sign_pdf(pdf_bytes: bytes, organisation) -> bytes:
    """``pdf_bytes`` signed by ``organisation`` (PAdES baseline B-B: CAdES detached, signing certificate
    attribute, no timestamp)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
    meta = signers.PdfSignatureMetadata(
        field_name="IssuerSignature",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="文书签发",
        location=getattr(settings, "NOTICE_SIGNING_LOCATION", ""),
        name=organisation.name,
    )
    signer = _signer(organisation)
    return _outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=signer).getvalue())


def _outside_event_loop(work):
    """pyHanko's synchronous API runs its own event loop (asyncio.run), which cannot start in a thread that
    already runs one (an async server, or a test driving a browser); such a caller gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
