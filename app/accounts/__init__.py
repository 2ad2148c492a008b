"""Accounts: passwords and API tokens (auth), people, browser sessions, and the login
throttle."""
