"""The page kit every app's web pages are made of (NetBox-style): a filtered,
sortable, paginated list with column choice, CSV export and bulk actions; a
detail page; create, edit and delete; bulk edit and delete; file import with a
preview and per-row errors. Every page asks the signed-in account's scope
(``calltally.accounts.scope``) before it shows or changes anything, and every
change is written to the audit log."""
