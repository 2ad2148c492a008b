"""Accounts: passwords and API tokens (auth), people, and the login throttle."""
