"""The AWS-faithful, fault-injecting proxy in front of moto, and its emulations.

Import-free: import the modules themselves (the package stays cheap to import)."""
