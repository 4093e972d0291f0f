"""A private OpenLDAP server for the LDAP sync tests.

Debian's ``slapd`` is started by the tests themselves, on a free loopback
port, from a minimal slapd.conf in a temporary folder (mdb database, a
rootdn, a small schema that adds the Active Directory attributes the sync
reads by default). It runs as the ``openldap`` user when the tests run as root,
else as the current user — never as the system service. With ``openssl`` at
hand it also listens on ldaps:// with a throwaway self-signed certificate, and
accepts StartTLS.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BASE = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE}"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "admin-secret"
READER_DN = f"cn=calltally,ou=services,{BASE}"
READER_PASSWORD = "reader secret"

# Active Directory's names for the attributes the sync maps by default, in a private OID arc.
SCHEMA = """\
attributetype ( 1.3.6.1.4.1.4203.666.100.1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.100.2 NAME 'ipPhone' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.100.3 NAME 'department' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.100.10 NAME 'adLikeUser' SUP top AUXILIARY
  MAY ( sAMAccountName $ ipPhone $ department ) )
"""

SKELETON = f"""\
dn: {BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ou=services,{BASE}
objectClass: organizationalUnit
ou: services

dn: {READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: calltally
userPassword: {READER_PASSWORD}
"""

# The people every test starts from: (uid, attributes).
PEOPLE_TREE = [
    ("alice", {"givenName": "Alice", "sn": "Rossi", "mail": "alice@example.org", "ipPhone": "+39 02 555 0201",
               "department": "Sales"}),
    ("bob", {"givenName": "Bob", "sn": "Bianchi", "mail": "bob@example.org", "telephoneNumber": "+39 02 555 0202",
             "department": "Sales", "manager": f"uid=alice,{PEOPLE}"}),
    ("carol", {"givenName": "Carol", "sn": "Verdi", "mail": "carol@example.org", "ipPhone": "0203",
               "department": "Research & Development", "manager": f"uid=alice,{PEOPLE}"}),
    ("dave", {"givenName": "Dave", "sn": "Neri"}),
]


def slapd_binary() -> str | None:
    found = shutil.which("slapd")
    if found:
        return found
    return "/usr/sbin/slapd" if os.access("/usr/sbin/slapd", os.X_OK) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def person_attributes(uid: str, attributes: dict) -> dict:
    values = {"objectClass": ["inetOrgPerson", "adLikeUser"], "uid": uid, "sAMAccountName": uid,
              "cn": f"{attributes.get('givenName', '')} {attributes.get('sn', uid)}".strip()}
    values.update(attributes)
    values.setdefault("sn", uid)
    return values


@dataclass
class Slapd:
    url: str
    ldaps_url: str
    ca_file: str
    folder: Path
    process: subprocess.Popen

    def env(self, **extra) -> dict[str, str]:
        """CALLTALLY_LDAP_* settings for the fixture directory (as the read-only service account)."""
        values = {
            "CALLTALLY_LDAP_URL": self.url,
            "CALLTALLY_LDAP_BIND_DN": READER_DN,
            "CALLTALLY_LDAP_PASSWORD": READER_PASSWORD,
            "CALLTALLY_LDAP_BASE_DN": PEOPLE,
            "CALLTALLY_LDAP_SITE": "HQ",
            "CALLTALLY_LDAP_EXTENSION_DIGITS": "3",
            "CALLTALLY_LDAP_PAGE_SIZE": "2",
            "CALLTALLY_LDAP_TIMEOUT": "5",
        }
        values.update(extra)
        return values

    @contextlib.contextmanager
    def admin(self):
        import ldap3

        connection = ldap3.Connection(ldap3.Server(self.url, get_info=ldap3.NONE), ADMIN_DN, ADMIN_PASSWORD,
                                      auto_bind=True, raise_exceptions=True)
        try:
            yield connection
        finally:
            connection.unbind()

    def reset(self) -> None:
        """Put the people of PEOPLE_TREE back, and only them."""
        import ldap3

        with self.admin() as connection:
            connection.search(PEOPLE, "(objectClass=*)", ldap3.LEVEL, attributes=[])
            for dn in [e.entry_dn for e in connection.entries]:
                connection.delete(dn)
            for uid, attributes in PEOPLE_TREE:
                connection.add(person_dn(uid), attributes=person_attributes(uid, attributes))

    def add(self, uid: str, **attributes) -> None:
        with self.admin() as connection:
            connection.add(person_dn(uid), attributes=person_attributes(uid, attributes))

    def modify(self, uid: str, **attributes) -> None:
        import ldap3

        changes = {name: [(ldap3.MODIFY_REPLACE, [value] if value else [])] for name, value in attributes.items()}
        with self.admin() as connection:
            connection.modify(person_dn(uid), changes)

    def delete(self, uid: str) -> None:
        with self.admin() as connection:
            connection.delete(person_dn(uid))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, timeout=60,
    )
    return (cert, key) if result.returncode == 0 else None


def start_slapd(binary: str) -> Slapd:
    folder = Path(tempfile.mkdtemp(prefix="calltally-slapd-"))
    (folder / "db").mkdir()
    (folder / "calltally.schema").write_text(SCHEMA)
    port, tls_port = free_port(), free_port()
    certificate = make_certificate(folder)
    tls_lines = ""
    if certificate:
        tls_lines = f"TLSCertificateFile {certificate[0]}\nTLSCertificateKeyFile {certificate[1]}\n"
    schema_dir = Path("/etc/ldap/schema") if Path("/etc/ldap/schema").is_dir() else Path("/etc/openldap/schema")
    module_dir = next((d for d in ("/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap") if Path(d).is_dir()),
                      "/usr/lib/ldap")
    config = folder / "slapd.conf"
    config.write_text(
        f"include {schema_dir}/core.schema\n"
        f"include {schema_dir}/cosine.schema\n"
        f"include {schema_dir}/inetorgperson.schema\n"
        f"include {folder}/calltally.schema\n"
        f"modulepath {module_dir}\n"
        "moduleload back_mdb\n"
        f"pidfile {folder}/slapd.pid\n"
        f"argsfile {folder}/slapd.args\n"
        f"{tls_lines}"
        "database mdb\n"
        "maxsize 20971520\n"
        f'suffix "{BASE}"\n'
        f'rootdn "{ADMIN_DN}"\n'
        f"rootpw {ADMIN_PASSWORD}\n"
        f"directory {folder}/db\n"
    )
    (folder / "skeleton.ldif").write_text(SKELETON)
    # Loaded offline before the start; the people are (re)loaded over LDAP by each test.
    loaded = subprocess.run([_sibling(binary, "slapadd"), "-f", str(config), "-l", str(folder / "skeleton.ldif")],
                            capture_output=True, text=True, timeout=60)
    if loaded.returncode != 0:
        raise RuntimeError(f"slapadd failed: {loaded.stderr.strip()}")
    user_args: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("openldap")
        except KeyError:
            account = None
        if account is not None:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid)
            user_args = ["-u", "openldap", "-g", str(account.pw_gid)]
    urls = f"ldap://127.0.0.1:{port}/" + (f" ldaps://127.0.0.1:{tls_port}/" if certificate else "")
    log = open(folder / "slapd.log", "wb")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen([binary, "-d", "0", "-f", str(config), "-h", urls, *user_args],
                               stdout=log, stderr=subprocess.STDOUT)
    server = Slapd(url=f"ldap://127.0.0.1:{port}", ldaps_url=f"ldaps://localhost:{tls_port}" if certificate else "",
                   ca_file=str(certificate[0]) if certificate else "", folder=folder, process=process)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited with status {process.returncode}: "
                               f"{(folder / 'slapd.log').read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("slapd did not start listening within 20 seconds")


def _sibling(binary: str, name: str) -> str:
    candidate = Path(binary).with_name(name)
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)
