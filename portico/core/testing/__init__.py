"""Test utilities shared by every app: browser fixtures, a local SMTP server."""
