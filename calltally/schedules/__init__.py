"""Scheduled reports: any report of the catalogue, on a relative period, e-mailed (to addresses,
people, roles, or burst per manager or per person) or written to a folder, on a schedule."""
