"""Waiting at scale: one poller per service, its subscriptions, stuck waits, the event feed.

Import-free: import the modules themselves (the package stays cheap to import)."""
