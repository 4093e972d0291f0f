"""Which connection options are secrets, and what that means wherever a connection is kept or shown.

Each kind declares its secret options once, as a :class:`~calltally.collectors.base.Secret` help text
in its ``options``. Every place that stores, runs or shows a connection asks this module and keeps no
list of names of its own:

* :func:`sealed` — what is stored. A secret CallTally replays (a password it logs in with, a login
  script) is encrypted with the storage key (``calltally/secretstore.py``) and kept as
  ``{"encrypted": "<token>"}``; one it only verifies is hashed; an ``env:NAME`` reference stays as it
  is (only the variable's name is stored). ``validate_connection`` and ``Connection.save`` both seal.
* :func:`opened` — what a collector runs with (the Recorder, ``connection test``): the secrets
  decrypted. A key that cannot decrypt them raises :class:`SecretKeyError`, which names the
  connection and says what to do.
* :func:`redacted` and :func:`secret_status` — what is shown (``connection list``, ``diagnose``, the
  admin, later the web pages and the API): each secret, and the hash of one, as "(set)".
* :func:`secret_values` and :func:`scrubbed` — the secrets in clear, to remove them from free text
  (an error message, a log, a support bundle).

A parameter that its kind does not declare is treated as a secret: nothing says it is not one.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from calltally import secretstore

from . import collector_class
from .base import ConfigError, Secret

SET = "(set)"
SEALED = "encrypted"  # the one key of the JSON object an encrypted value is stored as
MIN_SCRUBBED = 4  # shorter values are not scrubbed from free text: they would take ordinary words with them


class SecretKeyError(ConfigError):
    """A secret cannot be encrypted or decrypted with the storage key; the message says what to do."""


def options(kind: str) -> dict[str, str]:
    """The options ``kind`` declares (name → help); none for a kind unknown to this installation."""
    try:
        return dict(collector_class(kind).options)
    except (ValueError, ImportError):
        return {}


def secrets(kind: str) -> dict[str, Secret]:
    """The secret options of ``kind``, as its collector declares them."""
    return {name: text for name, text in options(kind).items() if isinstance(text, Secret)}


def _hashes(kind: str) -> dict[str, str]:
    """Parameter holding a secret's hash → the secret option (``password_hash`` → ``password``)."""
    return {secret.hashed_as: name for name, secret in secrets(kind).items() if secret.hashed}


def is_secret(kind: str, name: str) -> bool:
    """Whether parameter ``name`` of a ``kind`` connection holds a secret: a secret option, the hash of
    one, or a name the kind does not declare."""
    declared = options(kind)
    return isinstance(declared.get(name), Secret) or name in _hashes(kind) or name not in declared


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED} and isinstance(value[SEALED], str)


def is_reference(value: Any) -> bool:
    """``env:NAME``: the secret is the variable's value when the Recorder starts; only its name is stored."""
    return isinstance(value, str) and value.startswith("env:")


def _empty(value: Any) -> bool:
    return value is None or value == ""


def secret_status(kind: str, parameters: dict[str, Any] | None) -> dict[str, str]:
    """Each secret option of ``kind``: "(set)", its ``env:NAME`` reference, or "" when it is not set."""
    parameters = parameters or {}
    status = {}
    for name, secret in secrets(kind).items():
        value = parameters.get(name)
        if is_reference(value):
            status[name] = value
        elif not _empty(value) or (secret.hashed and not _empty(parameters.get(secret.hashed_as))):
            status[name] = SET
        else:
            status[name] = ""
    return status


def redacted(kind: str, parameters: dict[str, Any] | None, mark: str = SET) -> dict[str, Any]:
    """``parameters`` fit to be shown: each secret as ``mark``, the hash of one as its option set to
    ``mark``, an ``env:NAME`` reference as it is (a variable's name is no secret)."""
    declared, hashes = options(kind), _hashes(kind)
    shown: dict[str, Any] = {}
    for name, value in (parameters or {}).items():
        if name in hashes:
            if _empty(shown.get(hashes[name])):
                shown[hashes[name]] = mark if not _empty(value) else value
            continue
        plain = name in declared and (not isinstance(declared[name], Secret) or is_reference(value))
        shown[name] = value if plain or _empty(value) else mark
    return shown


def sealed(kind: str, parameters: dict[str, Any] | None) -> dict[str, Any]:
    """``parameters`` as they are stored: every secret given in clear encrypted, or hashed when CallTally
    only verifies it. Values already sealed, and references, are kept: sealing twice changes nothing."""
    result = dict(parameters or {})
    for name, secret in secrets(kind).items():
        value = result.get(name)
        if _empty(value) or is_sealed(value) or is_reference(value):
            continue
        if secret.hashed:
            del result[name]
            result[secret.hashed_as] = secret.hasher(str(value))
            continue
        try:
            result[name] = {SEALED: secretstore.encrypt(str(value))}
        except secretstore.StorageKeyError as exc:
            raise SecretKeyError(f"option {name} cannot be stored encrypted: {exc}.") from None
    return result


def opened(kind: str, parameters: dict[str, Any] | None, connection_id: int | None = None) -> dict[str, Any]:
    """``parameters`` with their encrypted secrets decrypted, for a collector to run with (never to store
    or show). Raises :class:`SecretKeyError` when the storage key cannot decrypt them."""
    result = dict(parameters or {})
    unreadable: list[str] = []
    problem: secretstore.StorageKeyError | None = None
    for name in secrets(kind):
        value = result.get(name)
        if not is_sealed(value):
            continue
        try:
            result[name] = secretstore.decrypt(value[SEALED])
        except secretstore.StorageKeyError as exc:
            unreadable.append(name)
            problem = exc
    if problem is not None:
        raise SecretKeyError(_unreadable_message(connection_id, unreadable, problem))
    return result


def _unreadable_message(connection_id: int | None, names: list[str], problem: secretstore.StorageKeyError) -> str:
    # Whoever shows it says which connection it is about ("connection #7: …").
    them = "it" if len(names) == 1 else "them"
    text = f"the {' and '.join(names)} cannot be decrypted: {problem}."
    if not problem.lost:  # the key is here but unreadable: mending it is enough
        return f"{text} Correct the storage key; the secrets encrypted with it need nothing else."
    command = f"calltally connection set {connection_id if connection_id is not None else 'ID'} " + " ".join(
        f"--option {name}=…" for name in names)
    return (f"{text} A lost key cannot be recovered: enter {them} again ({command}), or put back the storage "
            f"key that encrypted {them} (the file {secretstore.KEY_FILE_NAME} of the data dir, or "
            f"{secretstore.KEY_VARIABLE}).")


def forget(kind: str, parameters: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """``parameters`` without option ``name``, nor its hash when it is a hashed secret."""
    result = dict(parameters or {})
    result.pop(name, None)
    secret = secrets(kind).get(name)
    if secret is not None and secret.hashed:
        result.pop(secret.hashed_as, None)
    return result


def secret_values(kind: str, parameters: dict[str, Any] | None) -> list[str]:
    """The secrets of a connection in clear, to scrub them from free text: each secret decrypted (one the
    key cannot open is left out: it cannot be anywhere in clear either), the value of each variable an
    ``env:NAME`` names, the pieces of each that are secrets on their own (a login script's passwords), and
    the text of every parameter the kind does not declare."""
    declared = options(kind)
    values: list[str] = []
    for name, value in (parameters or {}).items():
        secret = declared.get(name)
        if name not in declared:
            values.extend(_texts(value))
            continue
        if not isinstance(secret, Secret) or _empty(value):
            continue
        if is_sealed(value):
            try:
                value = secretstore.decrypt(value[SEALED])
            except secretstore.StorageKeyError:
                continue
        if is_reference(value):
            value = os.environ.get(value[4:], "")
            if not value:
                continue
        value = str(value)
        values.append(value)
        if secret.pieces is not None:
            # (a value that is not valid was never run: no piece of it was sent anywhere)
            with contextlib.suppress(ConfigError):
                values.extend(secret.pieces(value))
    return [value for value in values if len(value) >= MIN_SCRUBBED]


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return [] if _empty(value) or isinstance(value, bool) else [str(value)]


def scrubbed(text: str, kind: str, parameters: dict[str, Any] | None, mark: str = SET) -> str:
    """``text`` with every secret of the connection replaced by ``mark``."""
    for value in sorted(set(secret_values(kind, parameters)), key=len, reverse=True):
        text = text.replace(value, mark)
    return text
