"""Tools for testing code that uses AWS Batch, with no AWS account.

* :class:`LocalBatch`: a local AWS Batch in a child process (moto behind an AWS-faithful proxy)
  that finishes jobs at once, walks them through their statuses, or really runs their commands
  as local processes, with their logs in CloudWatch Logs. The pytest plugin
  (:mod:`aws_batch_async.testing.pytest_plugin`) offers it as the ``local_batch`` fixture.
* :class:`MotoServer` and :func:`create_batch_infrastructure`: a moto server on 127.0.0.1 with a
  queue and a job definition, in this process.
* :class:`BatchProxy`: an AWS-faithful, fault-injecting proxy in front of moto (ListJobs paging
  and its RUNNING default, the 100-id DescribeJobs limit, throttling, 5xx, dropped responses).

These need the ``local`` extra: ``pip install "aws-batch-async[local]"``.
"""

from ._local import LocalBatch, LocalBatchError
from ._moto import (
    BatchInfrastructure,
    MotoServer,
    create_batch_infrastructure,
    set_job_transition,
)
from ._proxy.proxy import BatchProxy, Fault, RecordedCall

__all__ = [
    "BatchInfrastructure",
    "BatchProxy",
    "Fault",
    "LocalBatch",
    "LocalBatchError",
    "MotoServer",
    "RecordedCall",
    "create_batch_infrastructure",
    "set_job_transition",
]
