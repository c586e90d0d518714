"""aws-batch-async: an asyncio-native client for AWS Batch.

```python
from aws_batch_async import BatchConfig, BatchService, JobRequest

async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
    job = await batch.submit_job(JobRequest(command=["echo", "hello"]))
```
"""

from ._config import BatchConfig, PollPolicy
from ._errors import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    ConfigurationError,
    JobFailedError,
    JobNotFoundError,
    ServiceClosedError,
    SubmitJobsError,
    SubmitOutcomeUnknownError,
    ThrottlingError,
    WaitTimeoutError,
)
from ._models import (
    ArrayProperties,
    AttemptDetail,
    EvaluateOnExit,
    JobDependency,
    JobDetail,
    JobRequest,
    JobResponse,
    JobStatus,
    JobSummary,
    LogEvent,
)
from ._service import BatchService
from ._submit import SubmitRetry

__version__ = "0.1.0"

__all__ = [
    "ArrayProperties",
    "AttemptDetail",
    "BatchAPIError",
    "BatchConfig",
    "BatchConnectionError",
    "BatchError",
    "BatchService",
    "ConfigurationError",
    "EvaluateOnExit",
    "JobDependency",
    "JobDetail",
    "JobFailedError",
    "JobNotFoundError",
    "JobRequest",
    "JobResponse",
    "JobStatus",
    "JobSummary",
    "LogEvent",
    "PollPolicy",
    "ServiceClosedError",
    "SubmitJobsError",
    "SubmitOutcomeUnknownError",
    "SubmitRetry",
    "ThrottlingError",
    "WaitTimeoutError",
    "__version__",
]
