"""A small adapter over ldap3: connect, bind, and page through the people of a directory.

Everything ldap3 can raise becomes ``LdapError`` with a message for an
administrator, never a traceback, and never the password.
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from .config import LdapConfig


class LdapError(Exception):
    """The directory could not be read; the message says why."""


@dataclass
class DirectoryEntry:
    dn: str
    attributes: dict[str, list[str]]  # lower-case names → values

    def first(self, names: tuple[str, ...]) -> str:
        """The first non-blank value of the first of ``names`` that has one."""
        for name in names:
            for value in self.attributes.get(name.lower(), ()):
                if value.strip():
                    return value.strip()
        return ""


class LdapClient:
    """One connection to the directory: ``with LdapClient(config) as client: client.search()``."""

    def __init__(self, config: LdapConfig):
        self.config = config
        self.connection = None

    def __enter__(self) -> LdapClient:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _errors(self, doing: str):
        from ldap3.core import exceptions as lx

        config = self.config
        try:
            yield
        except lx.LDAPInvalidCredentialsResult:
            raise LdapError(f"the server refused the bind DN and password ({config.bind_dn or 'anonymous'}): "
                            "invalid credentials") from None
        except lx.LDAPNoSuchObjectResult:
            raise LdapError(f"the base DN {config.base_dn!r} does not exist on {config.url}") from None
        except lx.LDAPInvalidFilterError as exc:
            raise LdapError(f"the filter {config.search_filter!r} is not valid LDAP filter syntax ({exc})") from None
        except lx.LDAPStartTLSError as exc:
            raise LdapError(f"StartTLS with {config.url} failed: {_reason(exc)}") from None
        except (lx.LDAPSSLConfigurationError, ssl.SSLError) as exc:
            raise LdapError(f"TLS with {config.url} failed: {_reason(exc)}") from None
        except lx.LDAPSocketOpenError as exc:
            raise LdapError(f"cannot reach {config.url}: {_reason(exc)}") from None
        except lx.LDAPCommunicationError as exc:
            raise LdapError(f"lost the connection to {config.url} while {doing}: {_reason(exc)}") from None
        except lx.LDAPOperationResult as exc:
            raise LdapError(f"the server refused {doing}: {exc.description or exc.result}"
                            f"{' (' + exc.message + ')' if exc.message else ''}") from None
        except lx.LDAPException as exc:
            raise LdapError(f"LDAP error while {doing}: {_reason(exc)}") from None
        except LdapError:
            raise
        except Exception as exc:  # whatever the peer sends: a message, never a traceback
            raise LdapError(f"{config.url} did not answer as an LDAP server while {doing} "
                            f"({type(exc).__name__}: {_reason(exc)})") from None

    def connect(self) -> None:
        import ldap3

        config = self.config
        tls = None
        if config.url.lower().startswith("ldaps://") or config.starttls:
            tls = ldap3.Tls(
                validate=ssl.CERT_REQUIRED if config.tls_verify else ssl.CERT_NONE,
                ca_certs_file=config.ca_file or None,
            )
        with self._errors("connecting"):
            server = ldap3.Server(config.url, tls=tls, get_info=ldap3.NONE, connect_timeout=config.timeout)
            connection = ldap3.Connection(
                server,
                user=config.bind_dn or None,
                password=config.password or None,
                authentication=ldap3.SIMPLE if config.bind_dn else ldap3.ANONYMOUS,
                auto_bind=ldap3.AUTO_BIND_NONE,
                raise_exceptions=True,
                receive_timeout=config.timeout,
                read_only=True,
                auto_referrals=False,
            )
            connection.open()
            self.connection = connection
            if config.starttls:
                connection.start_tls()
            connection.bind()

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.unbind()
            self.connection = None

    @property
    def encrypted(self) -> bool:
        return bool(self.connection and (self.connection.server.ssl or self.connection.tls_started))

    def whoami(self) -> str:
        with self._errors("asking who we are bound as"):
            answer = self.connection.extend.standard.who_am_i()
        return (answer or "").removeprefix("dn:") or self.config.bind_dn or "anonymous"

    def search(self) -> Iterator[DirectoryEntry]:
        """Every entry below the base DN that matches the filter, a page at a time."""
        config = self.config
        with self._errors("searching"):
            results = self.connection.extend.standard.paged_search(
                search_base=config.base_dn,
                search_filter=config.search_filter,
                search_scope="SUBTREE",
                attributes=config.attributes,
                paged_size=config.page_size,
                generator=True,
            )
            for result in results:
                if result.get("type") != "searchResEntry":
                    continue  # referrals to other domains
                attributes = {}
                for name, values in (result.get("raw_attributes") or {}).items():
                    if isinstance(values, bytes | bytearray):
                        values = [values]
                    attributes[name.lower()] = [
                        v.decode("utf-8", "replace") if isinstance(v, bytes | bytearray) else str(v) for v in values
                    ]
                yield DirectoryEntry(dn=result["dn"], attributes=attributes)


def _reason(exc: Exception) -> str:
    """The words of an ldap3 error, without the tuples and lists it wraps them in."""
    text = str(exc).strip() or type(exc).__name__
    for noise in ("socket connection error while opening: ", "socket ssl wrapping error: "):
        text = text.replace(noise, "")
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text)
    return re.sub(r"^[\s(\[\"',]+|[\s)\]\"',]+$", "", text) or type(exc).__name__
