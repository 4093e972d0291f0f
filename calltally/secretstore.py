"""Encryption at rest of the secrets CallTally must replay (a password it logs in with, a PBX login script).

A secret CallTally only verifies (a password a PBX logs in with, a push token) is hashed instead and never
comes here. These are encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from the ``cryptography``
package) under one **storage key** that is kept outside the database, so that a copy of the database alone
(a backup, a dump sent to someone) holds no usable secret:

* ``CALLTALLY_STORAGE_KEY``, when set, is the key (44 characters of URL-safe base64, as in the file);
* otherwise the file ``secret_storage_key`` of the data dir, created with owner-only permissions the
  first time a secret is encrypted.

A lost or replaced key cannot be recovered: the secrets encrypted with it must be entered again.
:class:`StorageKeyError` says so in words, never with a traceback.

Plain Python and a foundation: it imports nothing from CallTally's apps.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from calltally import conf

KEY_VARIABLE = "CALLTALLY_STORAGE_KEY"
KEY_FILE_NAME = "secret_storage_key"


class StorageKeyError(Exception):
    """The storage key is missing, malformed, or not the one a value was encrypted with. ``lost``: the key
    that encrypted the value is not here (missing, or another one), rather than unreadable."""

    def __init__(self, message: str, lost: bool = False):
        super().__init__(message)
        self.lost = lost


def key_file() -> Path:
    """``<data dir>/secret_storage_key``: Django's DATA_DIR when configured, else the data dir of conf."""
    try:
        from django.conf import settings

        if settings.configured and hasattr(settings, "DATA_DIR"):
            return Path(settings.DATA_DIR) / KEY_FILE_NAME
    except ImportError:  # plain Python, without Django: the same folder, from the environment
        pass
    return conf.data_dir_path() / KEY_FILE_NAME


def key_source() -> str:
    """Where the key comes from, in words, for messages."""
    if os.environ.get(KEY_VARIABLE, "").strip():
        return f"the key in {KEY_VARIABLE}"
    return f"the key file {key_file()}"


def current_key() -> str | None:
    """The key in use, or None when there is none yet (nothing was ever encrypted). Never creates one."""
    configured = os.environ.get(KEY_VARIABLE, "").strip()
    if configured:
        return configured
    try:
        return key_file().read_text().strip() or None
    except OSError:  # none, or none this process may read: nothing it could encrypt with either
        return None


def encrypt(text: str) -> str:
    """The Fernet token of ``text``; the key file is created on first use."""
    return _fernet(create=True).encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text ``token`` encrypts; :class:`StorageKeyError` when this key cannot open it."""
    fernet = _fernet(create=False)
    try:
        return fernet.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise StorageKeyError(
            f"{key_source()} is not the key it was encrypted with (the key was lost or replaced)", lost=True) from None


def _fernet(create: bool) -> Fernet:
    configured = os.environ.get(KEY_VARIABLE, "").strip()
    if configured:
        return _checked(configured, f"{KEY_VARIABLE} is not a storage key (44 characters of URL-safe base64, "
                                    "such as the content of a secret_storage_key file)")
    path = key_file()
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        if not create:
            raise StorageKeyError(f"there is no storage key: {path} does not exist and {KEY_VARIABLE} is not set "
                                  "(the key was lost, or this is another data dir)", lost=True) from None
        text = _create(path)
    except OSError as exc:
        raise StorageKeyError(f"cannot read the storage key {path}: {exc.strerror}") from None
    # A damaged file is a lost key, unless a copy of it is put back.
    return _checked(text, f"{path} does not hold a storage key (it was damaged or replaced)", lost=True)


def _checked(key: str, problem: str, lost: bool = False) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeError):
        raise StorageKeyError(problem, lost) from None


def _create(path: Path) -> str:
    """Write a new key, readable by its owner only, unless another process just wrote one: the file is
    complete before it appears under its name (a hard link never replaces an existing file), so every
    process ends up with the same key."""
    # A name of its own: the link below shares the file, which nobody else may then write to.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        return path.read_text().strip()
    except OSError as exc:
        raise StorageKeyError(f"cannot create the storage key {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
