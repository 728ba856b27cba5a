"""The platform's seal: an Ed25519 key that signs every publication manifest (issue 4, item 8).

The private key lives in ``<instance>/seal_ed25519.pem`` (PKCS8 PEM, unencrypted, mode 0600).
It is generated on first use; two processes starting at once end up with the same key, because
the file is created by linking a finished temporary file into place, which never overwrites an
existing key. The public key (raw 32 bytes, base64) is shown on ``/about/seal`` and in every
manifest, so anyone can check a manifest offline with ``app/publishing/verify.py``.

Pure: no flask, no database. The manifest's shape is described in ``app/publishing/verify.py``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILENAME = "seal_ed25519.pem"
ALGORITHM = "Ed25519"


def key_path(instance_path: str | Path) -> Path:
    """Where the seal key of an instance folder lives."""
    return Path(instance_path) / KEY_FILENAME


def _read_key(path: Path) -> Ed25519PrivateKey:
    data = path.read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key; the seal needs one.")
    return key


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def load_or_create_key(instance_path: str | Path) -> Ed25519PrivateKey:
    """Return the instance's seal key, generating ``seal_ed25519.pem`` on first use.

    See :func:`write_once`: a key is never overwritten; the process that loses the race reads the
    winner's key instead.
    """
    path = key_path(instance_path)
    if not path.exists():
        write_once(path, _pem(Ed25519PrivateKey.generate()))
    return _read_key(path)


def write_once(path: Path, data: bytes) -> bool:
    """Create ``path`` (mode 0600) holding ``data``, unless it exists; True if this call wrote it.

    The data is written to a temporary file in the same folder, flushed to disk, then hard-linked
    to the final name. ``os.link`` fails if the name already exists, so a file is never
    overwritten and never seen half-written: two processes starting at once end up reading the
    same file. Also used for the PDF signing key (app/publishing/pdf_signing.py).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".concord-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; be explicit about it
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            return False  # another process got there first: its file stands
        except OSError:
            # A file system without hard links: create the name exclusively instead. A reader
            # could in principle see it before it is complete, so this is only the fallback.
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        _fsync_dir(path.parent)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64 (standard alphabet, padded)."""
    raw = key.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def canonical_json(data: dict) -> bytes:
    """The bytes the seal signs: sorted keys, no spaces, UTF-8 (not ASCII-escaped).

    ``app/publishing/verify.py`` has an identical copy (it must stay standalone); a test keeps
    the two byte-for-byte equal.
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal_manifest(manifest: dict, key: Ed25519PrivateKey) -> dict:
    """Return a copy of ``manifest`` with a ``seal`` over everything else in it.

    Any ``seal`` already present is replaced; the input is not modified.
    """
    body = {k: copy.deepcopy(v) for k, v in manifest.items() if k != "seal"}
    signature = key.sign(canonical_json(body))
    sealed = dict(body)
    sealed["seal"] = {
        "algorithm": ALGORITHM,
        "public_key": public_key_b64(key),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return sealed
