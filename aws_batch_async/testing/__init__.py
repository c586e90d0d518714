"""Tools for testing code that uses AWS Batch, with no AWS account.

* :class:`MotoServer` and :func:`create_batch_infrastructure`: a moto server on 127.0.0.1 with a
  queue and a job definition.
* :class:`BatchProxy`: an AWS-faithful, fault-injecting proxy in front of moto (ListJobs paging
  and its RUNNING default, the 100-id DescribeJobs limit, throttling, 5xx, dropped responses).

These need the ``local`` extra: ``pip install "aws-batch-async[local]"``.
"""

from ._moto import (
    BatchInfrastructure,
    MotoServer,
    create_batch_infrastructure,
    set_job_transition,
)
from ._proxy import BatchProxy, Fault, RecordedCall

__all__ = [
    "BatchInfrastructure",
    "BatchProxy",
    "Fault",
    "MotoServer",
    "RecordedCall",
    "create_batch_infrastructure",
    "set_job_transition",
]
