"""A Docker-Engine-API stand-in that runs job containers as local processes.

Import-free: import the modules themselves (the package stays cheap to import)."""
