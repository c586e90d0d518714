"""A domain service over ``BatchService``: the layering the original Go README showed.

``VideoProcessingService`` speaks the application's language (videos, formats, thumbnails)
and builds the ``JobRequest`` objects itself: one job per output format, the inputs passed as
environment variables that the job definition's image reads, thumbnails as one array job
whose children pick their frame from ``AWS_BATCH_JOB_ARRAY_INDEX``. Everything AWS-shaped
(pooling, pacing, exactly-once submission, waiting) stays in the ``BatchService`` it is given,
which the application opens once::

    async with BatchService(BatchConfig.from_env()) as batch:
        videos = VideoProcessingService(batch, output_prefix="s3://my-bucket/videos")
        jobs = await videos.transcode("s3://my-bucket/in/cat.mov", ["mp4", "webm"])
        thumbs = await videos.thumbnails("s3://my-bucket/in/cat.mov", count=5, after=jobs[0])
        print(await videos.status(thumbs.job_id))
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_batch_async import BatchService, JobDetail, JobRequest, JobResponse, JobStatus

__all__ = ["FORMATS", "VideoJob", "VideoProcessingService"]

logger = logging.getLogger("video_service")

#: Output formats and the codec each uses.
FORMATS = {"mp4": "h264", "webm": "vp9", "hls": "h264"}

State = Literal["queued", "running", "succeeded", "failed"]
_STATES: dict[JobStatus, State] = {
    JobStatus.SUBMITTED: "queued",
    JobStatus.PENDING: "queued",
    JobStatus.RUNNABLE: "queued",
    JobStatus.STARTING: "running",
    JobStatus.RUNNING: "running",
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
}


@dataclass(frozen=True)
class VideoJob:
    """A video job as the application sees it.

    Attributes:
        job_id: The AWS Batch job id.
        name: The job's name (``transcode-mp4-<video>``, ``thumbnails-<video>``).
        state: ``queued``, ``running``, ``succeeded`` or ``failed``.
        done: For a thumbnails array job, how many children finished (else 1 when finished).
        total: For a thumbnails array job, how many children there are (else 1).
        reason: Why it failed, as AWS says.
    """

    job_id: str
    name: str
    state: State
    done: int = 0
    total: int = 1
    reason: str | None = None


class VideoProcessingService:
    """Transcodes videos and makes thumbnails, as AWS Batch jobs.

    Args:
        batch: The application's one (open) ``BatchService``.
        output_prefix: Where the jobs write (``s3://bucket/prefix``).
        transcode_command: The transcoding job's command; ``None`` keeps the job definition's.
        thumbnail_command: The thumbnail job's command; ``None`` keeps the job definition's.
        job_definition: The definition to run (``None``: the service config's).
    """

    def __init__(
        self,
        batch: BatchService,
        *,
        output_prefix: str,
        transcode_command: Sequence[str] | None = None,
        thumbnail_command: Sequence[str] | None = None,
        job_definition: str | None = None,
    ) -> None:
        self._batch = batch
        self._output = output_prefix.rstrip("/")
        self._transcode = list(transcode_command) if transcode_command else None
        self._thumbnail = list(thumbnail_command) if thumbnail_command else None
        self._definition = job_definition

    async def transcode(self, video_url: str, formats: Sequence[str]) -> list[JobResponse]:
        """Submit one transcoding job per format, in the order given.

        Args:
            video_url: The source video (``s3://`` or ``https://``).
            formats: Output formats (see :data:`FORMATS`), each at most once.

        Returns:
            The submitted jobs, one per format.

        Raises:
            ValueError: A bad URL, no format, an unknown or repeated format (before any call).
            SubmitJobsError: A submission failed; it lists the jobs that were created.
        """
        video = _video_key(video_url)
        if not formats or len(set(formats)) != len(formats):
            raise ValueError("formats: give at least one format, each once")
        unknown = sorted(set(formats) - FORMATS.keys())
        if unknown:
            raise ValueError(f"formats: unknown {unknown}; known: {sorted(FORMATS)}")
        requests = [
            JobRequest(
                job_name=f"transcode-{fmt}-{video}",
                job_definition=self._definition,
                command=self._transcode,
                env_vars={
                    "VIDEO_URL": video_url,
                    "OUTPUT_FORMAT": fmt,
                    "VIDEO_CODEC": FORMATS[fmt],
                    "OUTPUT_URL": f"{self._output}/{video}/video.{fmt}",
                },
                tags={"app": "video", "video": video, "step": "transcode"},
            )
            for fmt in formats
        ]
        jobs = await self._batch.submit_jobs(requests)
        logger.info("video %s: %d transcoding jobs submitted", video, len(jobs))
        return jobs

    async def thumbnails(
        self,
        video_url: str,
        *,
        count: int = 5,
        width: int = 320,
        after: JobResponse | str | None = None,
    ) -> JobResponse:
        """Submit the thumbnails of a video: an array job of ``count`` children.

        Each child makes one thumbnail; it finds its number in ``AWS_BATCH_JOB_ARRAY_INDEX``
        (set by AWS Batch) and the total in ``THUMBNAIL_COUNT``.

        Args:
            video_url: The source video.
            count: Thumbnails, 1..100 (one is a plain job, more an array job).
            width: Their width in pixels, 16..4096.
            after: A job (e.g. a transcode) that must succeed first.

        Returns:
            The submitted (array) job.

        Raises:
            ValueError: A bad URL, count or width (before any call).
        """
        video = _video_key(video_url)
        if not 1 <= count <= 100:
            raise ValueError("count must be between 1 and 100")
        if not 16 <= width <= 4096:
            raise ValueError("width must be between 16 and 4096")
        depends = None
        if after is not None:
            depends = [after.job_id if isinstance(after, JobResponse) else after]
        request = JobRequest(
            job_name=f"thumbnails-{video}",
            job_definition=self._definition,
            command=self._thumbnail,
            array_size=count if count > 1 else None,
            depends_on=depends,
            env_vars={
                "VIDEO_URL": video_url,
                "THUMBNAIL_COUNT": str(count),
                "THUMBNAIL_WIDTH": str(width),
                "OUTPUT_URL": f"{self._output}/{video}/thumbnails",
            },
            tags={"app": "video", "video": video, "step": "thumbnails"},
        )
        job = await self._batch.submit_job(request)
        logger.info("video %s: thumbnails job %s submitted", video, job.job_id)
        return job

    async def status(self, job_id: str) -> VideoJob:
        """Where a video job stands.

        Raises:
            JobNotFoundError: AWS Batch does not know the job.
        """
        return _video_job(await self._batch.get_job_status(job_id))

    async def wait(self, jobs: Sequence[JobResponse], *, timeout: float = 3600) -> list[VideoJob]:
        """Wait until every job finished, and return them in the order they finished.

        Raises:
            WaitTimeoutError: ``timeout`` seconds passed first (the jobs keep running).
        """
        ids = [job.job_id for job in jobs]
        return [_video_job(job) async for job in self._batch.as_completed(ids, timeout=timeout)]


def _video_key(video_url: str) -> str:
    """A short, stable, job-name-safe key of a video URL."""
    if not video_url.startswith(("s3://", "https://")) or len(video_url) > 2048:
        raise ValueError("video_url must be an s3:// or https:// URL")
    return hashlib.sha256(video_url.encode()).hexdigest()[:12]


def _video_job(job: JobDetail) -> VideoJob:
    state = _STATES[job.status]
    done, total = (1 if job.is_terminal else 0), 1
    if job.array_properties is not None and job.array_properties.size:
        summary = job.array_properties.status_summary
        total = job.array_properties.size
        done = summary.get("SUCCEEDED", 0) + summary.get("FAILED", 0)
        if job.is_terminal:
            done = total
    reason = job.status_reason if state == "failed" else None
    return VideoJob(job.job_id, job.job_name, state, done, total, reason)
