"""The audit trail: who did what, when and from where.

Sign-ins, failed sign-ins, lockouts and sign-outs are recorded by themselves
(Django's and django-axes' signals, wired in :class:`.apps.AuditConfig`);
everything else is recorded by the code that does it, through
:func:`calltally.audit.services.record`. The app imports no other CallTally
app, so every layer above may record.
"""
