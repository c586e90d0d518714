"""Submitting jobs exactly once: the submitter, fan-out, the definition cache, SubmitJob's
parameters.

Import-free: import the modules themselves (the package stays cheap to import)."""
