"""LDAP / Active Directory sync: settings (config), the ldap3 adapter (client), the sync."""

from .client import DirectoryEntry, LdapClient, LdapError
from .config import LdapConfig, LdapConfigError
from .sync import SyncReport, sync_directory

__all__ = ["DirectoryEntry", "LdapClient", "LdapConfig", "LdapConfigError", "LdapError", "SyncReport",
           "sync_directory"]
