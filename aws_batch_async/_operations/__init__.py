"""Operations beyond one job: typed infrastructure reads, listing, explain, bulk stop.

Import-free: import the modules themselves (the package stays cheap to import)."""
