"""How long WRK calls can keep a deploy busy, so that `reconcile` never judges a deploy
interrupted while its process may still be waiting on WRK (SPEC §4.4)."""

import math

# Database work of a deploy between and after its WRK calls, with room to spare.
DEPLOY_DB_MARGIN_SECONDS = 10.0


def wrk_call_bound(
    *, attempts: int, connect_timeout: float, read_timeout: float, max_wait: float
) -> float:
    """The longest one WRK call with its retries can take: every attempt may run into both
    timeouts, and the waits between attempts are bounded by WRK_RETRY_MAX_SECONDS."""
    return attempts * (connect_timeout + read_timeout) + max_wait


def deploy_stale_floor(
    *, attempts: int, connect_timeout: float, read_timeout: float, max_wait: float
) -> int:
    """A deploy makes two such calls while it holds its project (activate, then deactivate
    the previous workflow), plus its database work."""
    one = wrk_call_bound(
        attempts=attempts,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_wait=max_wait,
    )
    return math.ceil(2 * one + DEPLOY_DB_MARGIN_SECONDS)


def stale_setting_problem(
    *,
    stale_after: int,
    attempts: int,
    connect_timeout: float,
    read_timeout: float,
    max_wait: float,
) -> str | None:
    """Why DEPLOY_STALE_AFTER_SECONDS is unsafe with these WRK settings, or None."""
    floor = deploy_stale_floor(
        attempts=attempts,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_wait=max_wait,
    )
    if stale_after >= floor:
        return None
    return (
        f"DEPLOY_STALE_AFTER_SECONDS={stale_after} is below {floor} s, the longest a deploy's "
        f"WRK calls can take: 2 × ({attempts} attempt(s) × ({connect_timeout:g} s connect + "
        f"{read_timeout:g} s read timeout) + {max_wait:g} s WRK_RETRY_MAX_SECONDS) + "
        f"{DEPLOY_DB_MARGIN_SECONDS:g} s. reconcile could then decide a deploy whose "
        f"activation is still in flight. Set it to at least {floor}, or lower the WRK "
        "timeouts and attempts."
    )
