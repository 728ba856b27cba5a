"""The platform's PDF signature: every published PDF is signed once, PAdES baseline (B-B), with pyHanko.

The key and certificate are the operator's when ``PDF_SIGNING_PKCS12`` names a PKCS#12 file
(password in ``PDF_SIGNING_PASSWORD``); otherwise the instance makes its own at first start, a
self-signed ECDSA P-256 certificate kept with its key in ``<instance>/pdf_signing.pem`` (mode
0600, created once like the seal key, see ``seal.write_once``). Any PDF reader then reports the
file unmodified since it was signed; whether it trusts the signer is a matter of the certificate
(a self-signed one is shown as such; its fingerprint is on ``/about/seal``).

Configured once by create_app(); pure otherwise: no flask, no database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.publishing.seal import write_once

KEY_FILENAME = "pdf_signing.pem"
FIELD_NAME = "Concord"


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    pkcs12_path: str = ""
    password: str = ""
    name: str = "Concord"


_settings: list[Settings] = []


def configure(instance_path: str | Path, *, pkcs12_path: str = "", password: str = "",
              name: str = "Concord") -> None:
    _settings[:] = [Settings(Path(instance_path), pkcs12_path or "", password or "", name or "Concord")]
    _material.cache_clear()


def _current() -> Settings:
    if not _settings:
        raise RuntimeError("PDF signing is not configured; create_app() does that")
    return _settings[0]


def self_signed_pem(name: str) -> bytes:
    """A new ECDSA P-256 key and a self-signed certificate for it (ten years), as one PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{name} publications"[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
    ])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + certificate.public_bytes(serialization.Encoding.PEM)


def load_or_create(instance_path: str | Path, name: str = "Concord") -> tuple[object, x509.Certificate]:
    """The instance's own key and certificate, made at first use (never overwritten)."""
    path = Path(instance_path) / KEY_FILENAME
    if not path.exists():
        write_once(path, self_signed_pem(name))
    data = path.read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    certificate = x509.load_pem_x509_certificate(data)
    return key, certificate


@functools.cache
def _material():
    """(pyHanko signer, certificate) from the configured PKCS#12 file or the instance's own pair."""
    from pyhanko.keys import load_cert_from_pemder  # noqa: F401  (pyHanko present: fail early)
    from pyhanko.sign import signers

    settings = _current()
    if settings.pkcs12_path:
        from cryptography.hazmat.primitives.serialization import pkcs12

        data = Path(settings.pkcs12_path).read_bytes()
        password = settings.password.encode("utf-8") if settings.password else None
        try:
            _key, certificate, _others = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            raise RuntimeError(f"PDF_SIGNING_PKCS12 ({settings.pkcs12_path}) cannot be read with the "
                               "password in PDF_SIGNING_PASSWORD.") from exc
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=password)
        return signer, certificate
    key, certificate = load_or_create(settings.instance_path, settings.name)
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    pem = (settings.instance_path / KEY_FILENAME).read_bytes()
    asn1_key = load_private_key_from_pemder_data(pem, passphrase=None)
    asn1_cert = _asn1(certificate)
    signer = signers.SimpleSigner(signing_cert=asn1_cert, signing_key=asn1_key,
                                  cert_registry=SimpleCertificateStore.from_certs([asn1_cert]))
    return signer, certificate


def _asn1(certificate: x509.Certificate):
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def certificate() -> x509.Certificate:
    return _material()[1]


def certificate_pem() -> str:
    return certificate().public_bytes(serialization.Encoding.PEM).decode("ascii")


def fingerprint() -> str:
    """SHA-256 of the signing certificate (DER), hex in pairs: what PDF readers show as its fingerprint."""
    digest = hashlib.sha256(certificate().public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def subject() -> str:
    return certificate().subject.rfc4514_string()


def outside_event_loop(call):
    """``call()``, where pyHanko may run its own event loop: it calls ``asyncio.run``, which fails in a
    thread whose event loop is running (a browser driver's, in the tests). There it runs in a thread
    of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def sign_pdf(pdf: bytes, *, reason: str, location: str = "") -> bytes:
    """``pdf`` with the platform's PAdES baseline signature over the whole file."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer, _ = _material()
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason[:200], location=location[:200] or None, name=_current().name,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    return outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=signer)).getvalue()
