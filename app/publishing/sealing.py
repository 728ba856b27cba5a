"""The platform's seal, configured once by create_app() with the instance folder."""

from __future__ import annotations

import functools
from pathlib import Path

_instance: list[Path] = []


def configure(instance_path: str | Path) -> None:
    _instance[:] = [Path(instance_path)]
    _key.cache_clear()


@functools.cache
def _key():
    from app.publishing.seal import load_or_create_key

    if not _instance:
        raise RuntimeError("the seal is not configured; create_app() does that")
    return load_or_create_key(_instance[0])


def seal(manifest: dict) -> dict:
    from app.publishing.seal import seal_manifest

    return seal_manifest(manifest, _key())


def public_key() -> str:
    from app.publishing.seal import public_key_b64

    return public_key_b64(_key())
