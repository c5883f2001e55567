"""PAdES-B-B signatures on issued notices (pyHanko), with the issuing organisation's key and certificate.

Called on the rendered bytes in the render step, after the number is assigned: whatever fails here fails the
issue (the notice stays pending and is retried, then marked failed and alerted) — a notice is never issued
unsigned. The hash recorded on the notice is that of the signed file.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from notices.pki import OrgCredentials, SigningUnavailable, org_credentials

__all__ = ["SigningUnavailable", "sign_pdf"]


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key from DER again for every signature it makes, and parsing an
    RSA key checks it (≈80 ms of a notice here, twice per PDF with the dry run that sizes the signature): this
    one signs RSA PKCS#1 v1.5 (our keys) with the key object parsed once, and leaves anything else to pyHanko."""

    def __init__(self, *, private_key, **kwargs):
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            mechanism = None
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._private_key, RSAPrivateKey):
            return self._private_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


@dataclass
class _Loaded:
    stamp: tuple
    signer: signers.SimpleSigner
    # Bytes reserved in the PDF for the signature container: pyHanko sizes it by a dry-run signature unless
    # told; it is the same for every notice of one key and certificate chain (no timestamp), so it is taken
    # from the first signed file and reused.
    bytes_reserved: int | None = None


_loaded: dict[Path, _Loaded] = {}
_loaded_lock = threading.Lock()


def _stamp(creds: OrgCredentials) -> tuple:
    """What identifies the files' content: pki._write replaces a file (new inode), a copy changes its mtime."""
    stamp = []
    for path in (creds.key_path, creds.cert_path, creds.ca_path):
        try:
            st = path.stat()
            stamp.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            stamp.append(None)
    return tuple(stamp)


def _file_signer(creds: OrgCredentials, organisation) -> _Loaded:
    """The organisation's signer, loaded once per process and loaded again when its files change."""
    stamp = _stamp(creds)
    with _loaded_lock:
        loaded = _loaded.get(creds.key_path)
        if loaded is not None and loaded.stamp == stamp:
            return loaded
    simple = signers.SimpleSigner.load(
        str(creds.key_path),
        str(creds.cert_path),
        ca_chain_files=(str(creds.ca_path),) if creds.ca_path.is_file() else (),
    )
    if simple is None:
        raise SigningUnavailable(f"could not load the signing key of {organisation}")
    signer = _ParsedKeySigner(
        signing_cert=simple.signing_cert,
        signing_key=simple.signing_key,
        cert_registry=simple.cert_registry,
        private_key=serialization.load_der_private_key(simple.signing_key.dump(), password=None),
    )
    loaded = _Loaded(stamp=stamp, signer=signer)
    with _loaded_lock:
        _loaded[creds.key_path] = loaded
    return loaded


def _signer(organisation):
    """(signer, bytes to reserve or None): a token's signer is opened for each notice, a file signer is kept."""
    if settings.NOTICE_SIGNING_PKCS11_MODULE:
        # Production with an HSM or USB key: the private key never leaves the token (README, "Signed notices").
        from pyhanko.sign import pkcs11

        session = pkcs11.open_pkcs11_session(
            settings.NOTICE_SIGNING_PKCS11_MODULE,
            token_label=settings.NOTICE_SIGNING_PKCS11_TOKEN,
            user_pin=settings.NOTICE_SIGNING_PKCS11_PIN,
        )
        signer = pkcs11.PKCS11Signer(session, key_label=f"org-{organisation.pk}", cert_label=f"org-{organisation.pk}")
        return signer, None
    return None, _file_signer(org_credentials(organisation), organisation)


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
    token_signer, loaded = _signer(organisation)
    if token_signer is not None:
        return _outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=token_signer).getvalue())
    signed = _outside_event_loop(
        lambda: signers.sign_pdf(writer, meta, signer=loaded.signer, bytes_reserved=loaded.bytes_reserved).getvalue()
    )
    if loaded.bytes_reserved is None:
        # The /Contents string pyHanko reserved (hex: two characters a byte) after its own dry-run estimate.
        contents = PdfFileReader(BytesIO(signed)).embedded_signatures[-1].sig_object["/Contents"]
        loaded.bytes_reserved = 2 * len(contents)
    return signed


def _outside_event_loop(work):
    """pyHanko's synchronous API runs its own event loop (asyncio.run), which cannot start in a thread that
    already runs one (an async server, or a test driving a browser); such a caller gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
