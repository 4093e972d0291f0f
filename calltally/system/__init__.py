"""CallTally's own settings pages: LDAP, SMTP, data retention, the report logo."""
