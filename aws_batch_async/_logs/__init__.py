"""Job logs: where each kind of job's logs are, and reading them.

Import-free: import the modules themselves (the package stays cheap to import)."""
