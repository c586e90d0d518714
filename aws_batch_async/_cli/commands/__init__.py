"""The commands of the aws-batch-async CLI, one module per command or group (import-free)."""
