"""How calls reach AWS: the pooled clients, the fast path (plan, hooks, wire, SigV4), the
check of every answer, the one paginator.

Import-free: import the modules themselves (the package stays cheap to import)."""
