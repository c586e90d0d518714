"""SageMaker service jobs through AWS Batch: models, the client part, the service's methods.

Import-free: import the modules themselves (the package stays cheap to import)."""
