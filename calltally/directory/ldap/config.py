"""LDAP / Active Directory sync settings, read from CALLTALLY_LDAP_* environment variables.

The bind password is never stored in the database: it comes from
CALLTALLY_LDAP_PASSWORD, or from the file CALLTALLY_LDAP_PASSWORD_FILE names
(a Docker or systemd credential). It is kept out of reprs and messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "CALLTALLY_LDAP_"
# The fields the sync can set, and what each is read from by default (Active Directory names).
# Several attributes separated by | are tried in order.
DEFAULT_MAP: dict[str, tuple[str, ...]] = {
    "username": ("sAMAccountName",),
    "first_name": ("givenName",),
    "last_name": ("sn",),
    "email": ("mail",),
    "extension": ("ipPhone", "telephoneNumber"),
    "cost_center": ("department",),
    "manager": ("manager",),
}
FIELDS = (*DEFAULT_MAP, "site")
# Active Directory users (not computers, which are "person"s too), or standard inetOrgPerson entries.
DEFAULT_FILTER = "(|(&(objectCategory=person)(objectClass=user))(objectClass=inetOrgPerson))"
DIGITS = frozenset("0123456789")


class LdapConfigError(Exception):
    """A CALLTALLY_LDAP_* variable is missing or wrong; the message names it."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise LdapConfigError(f"{PREFIX}{name}={raw!r} is not a boolean; use true or false.")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LdapConfigError(f"{PREFIX}{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise LdapConfigError(f"{PREFIX}{name}={value} is too small; it must be at least {minimum}.")
    return value


def parse_map(text: str) -> dict[str, tuple[str, ...]]:
    """``field=attribute[|attribute…]`` pairs, separated by commas, over the defaults.

    ``field=`` (nothing after =) stops the sync from setting that field.
    """
    mapping = dict(DEFAULT_MAP)
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        name, sep, attributes = pair.partition("=")
        name = name.strip()
        if not sep or name not in FIELDS:
            raise LdapConfigError(
                f"{PREFIX}MAP entry {pair.strip()!r} must be FIELD=ATTRIBUTE with FIELD one of {', '.join(FIELDS)}."
            )
        names = tuple(a.strip() for a in attributes.split("|") if a.strip())
        for attribute in names:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+", attribute):
                raise LdapConfigError(f"{PREFIX}MAP: {attribute!r} is not an LDAP attribute name.")
        if names:
            mapping[name] = names
        else:
            mapping.pop(name, None)
    if "username" not in mapping:
        raise LdapConfigError(f"{PREFIX}MAP must map username to an attribute (e.g. username=sAMAccountName).")
    return mapping


@dataclass(frozen=True)
class LdapConfig:
    url: str
    base_dn: str
    bind_dn: str = ""
    password: str = field(default="", repr=False)
    search_filter: str = DEFAULT_FILTER
    mapping: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_MAP))
    site_code: str = ""
    starttls: bool = False
    tls_verify: bool = True
    ca_file: str = ""
    extension_regex: str = ""
    extension_digits: int = 0
    page_size: int = 500
    timeout: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LdapConfig:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(PREFIX + name, "").strip()

        url = get("URL")
        if not url:
            raise LdapConfigError(f"{PREFIX}URL is not set; e.g. ldaps://dc1.example.com or ldap://ldap.example.com.")
        if not re.fullmatch(r"ldaps?://[^\s/]+/?", url, flags=re.IGNORECASE):
            raise LdapConfigError(f"{PREFIX}URL={url!r} must look like ldap://HOST[:PORT] or ldaps://HOST[:PORT].")
        base_dn = get("BASE_DN")
        if not base_dn:
            raise LdapConfigError(f"{PREFIX}BASE_DN is not set; e.g. OU=Staff,DC=example,DC=com.")
        password = env.get(PREFIX + "PASSWORD", "")
        password_file = get("PASSWORD_FILE")
        if password_file and not password:
            try:
                password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise LdapConfigError(f"{PREFIX}PASSWORD_FILE={password_file}: cannot read it ({exc.strerror}).") \
                    from None
        bind_dn = get("BIND_DN")
        if bind_dn and not password:
            raise LdapConfigError(f"{PREFIX}BIND_DN is set but no password: set {PREFIX}PASSWORD "
                                  f"or {PREFIX}PASSWORD_FILE.")
        starttls = _bool(env, "STARTTLS", False)
        if starttls and url.lower().startswith("ldaps://"):
            raise LdapConfigError(f"{PREFIX}STARTTLS is for ldap:// URLs; an ldaps:// URL is encrypted already.")
        search_filter = get("FILTER") or DEFAULT_FILTER
        if not (search_filter.startswith("(") and search_filter.endswith(")")):
            raise LdapConfigError(f"{PREFIX}FILTER={search_filter!r} must be an LDAP filter in parentheses, "
                                  "e.g. (objectClass=user).")
        regex = get("EXTENSION_REGEX")
        if regex:
            try:
                compiled = re.compile(regex)
            except re.error as exc:
                raise LdapConfigError(f"{PREFIX}EXTENSION_REGEX is not a valid regular expression: {exc}.") from None
            if compiled.groups > 1:
                raise LdapConfigError(f"{PREFIX}EXTENSION_REGEX may have one group, the extension; it has "
                                      f"{compiled.groups}.")
        ca_file = get("CA_FILE")
        if ca_file and not Path(ca_file).is_file():
            raise LdapConfigError(f"{PREFIX}CA_FILE={ca_file} is not a readable file.")
        return cls(
            url=url.rstrip("/"), base_dn=base_dn, bind_dn=bind_dn, password=password, search_filter=search_filter,
            mapping=parse_map(get("MAP")), site_code=get("SITE"), starttls=starttls,
            tls_verify=_bool(env, "TLS_VERIFY", True), ca_file=ca_file, extension_regex=regex,
            extension_digits=_int(env, "EXTENSION_DIGITS", 0, 1), page_size=_int(env, "PAGE_SIZE", 500, 1),
            timeout=_int(env, "TIMEOUT", 10, 1),
        )

    @property
    def attributes(self) -> list[str]:
        """Every attribute the search asks for."""
        return sorted({a for names in self.mapping.values() for a in names})

    def extension_from(self, value: str) -> str:
        """The extension number in an attribute value ("+39 02 555 0201" → "201"), or ""."""
        value = (value or "").strip()
        if not value:
            return ""
        if self.extension_regex:
            match = re.search(self.extension_regex, value)
            if not match:
                return ""
            return (match.group(1) if match.re.groups else match.group(0) or "").strip()
        digits = "".join(ch for ch in value if ch in DIGITS)
        if self.extension_digits:
            return digits[-self.extension_digits:]
        return digits

    def describe(self) -> list[tuple[str, str]]:
        """The settings as shown to the user; the password only as set or not."""
        mapping = ", ".join(f"{k}={'|'.join(v)}" for k, v in self.mapping.items())
        if self.extension_regex:
            extraction = f"regex {self.extension_regex}"
        elif self.extension_digits:
            extraction = f"last {self.extension_digits} digits"
        else:
            extraction = "all digits"
        return [
            ("url", self.url),
            ("starttls", "yes" if self.starttls else "no"),
            ("tls verify", ("yes" if self.tls_verify else "NO") + (f" (CA {self.ca_file})" if self.ca_file else "")),
            ("bind dn", self.bind_dn or "(anonymous)"),
            ("password", "(set)" if self.password else "(not set)"),
            ("base dn", self.base_dn),
            ("filter", self.search_filter),
            ("map", mapping),
            ("site", self.site_code or "(none)"),
            ("extension", extraction),
            ("page size", str(self.page_size)),
        ]
