"""Data: frozen pydantic models of requests, jobs and their parts, AWS's open enums, and
AWS's limits they are checked against.

Import-free: import the modules themselves (the package stays cheap to import)."""
