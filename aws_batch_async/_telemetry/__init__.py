"""OpenTelemetry traces and metrics of the library's own work, free when absent.

Import-free: import the modules themselves (the package stays cheap to import)."""
