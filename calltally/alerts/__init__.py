"""Alerts: rules watched by the Scheduler (a silent site, costly or long calls, premium or blocked
destinations, international calls out of hours, repeated calls, a person's cost far above their
usual) and the alerts they raise, by e-mail and webhook."""
