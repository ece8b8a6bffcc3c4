"""Background jobs (RQ workers, when REDIS_URL is set) share one application per worker process."""

from functools import cache


@cache
def worker_app():
    """The application a job runs in: built once per worker process, not once per job."""
    from marketplace import create_app

    return create_app()
