"""Typed views of the infrastructure: job queues, compute environments, snapshots, job
definitions (and what registering one takes), instance types.

Import-free: import the modules themselves (the package stays cheap to import)."""
