"""Published files kept on local disk under their SHA-256, so a public address is served by sendfile.

A publication's files never change (promise 6) and each is stored in the database with its SHA-256.
The first request for one on an app server writes the stored bytes to ``<instance>/published/<sha256>``
(after checking they hash to that name) and every later request sends that file. A file is named by
its content, so it cannot go stale: a different content has a different name. Deleting the folder
costs nothing but one database read per file on the next request. Plain functions: no flask.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_HEX = re.compile(r"[0-9a-f]{64}")


class FileStore:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path | None:
        """The file holding the bytes with this SHA-256, if this server has written it."""
        if not _HEX.fullmatch(sha256):
            return None
        path = self.folder / sha256
        return path if path.is_file() else None

    def put(self, sha256: str, content: bytes) -> Path | None:
        """Write ``content`` as the file named ``sha256``; None (and a log line) when it cannot be.

        Bytes that do not hash to the name are never written: the caller serves them from the
        database as they are, and the mismatch is logged.
        """
        if not _HEX.fullmatch(sha256):
            return None
        if hashlib.sha256(content).hexdigest() != sha256:
            log.error("a stored published file does not match its SHA-256 %s; not written to disk", sha256)
            return None
        path = self.folder / sha256
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-", delete=False) as tmp:
                tmp.write(content)
            os.replace(tmp.name, path)  # atomic: a reader sees the whole file or none
        except OSError as error:
            log.warning("could not write the published file %s: %s", path, error)
            try:
                os.unlink(tmp.name)
            except (OSError, UnboundLocalError):
                pass
            return None
        return path
