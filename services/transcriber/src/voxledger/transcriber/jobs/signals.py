"""Why a running attempt or chunk stops early, and how its end is told to the runner."""

import asyncio

from voxledger.contracts.decisions import Rejected
from voxledger.runtime.leases import LeaseLost

SIGNAL_CHECK_S = 0.25  # how soon a cancel, a lost lease or a shutdown is noticed between reports


class HandBack(Exception):
    """The worker is shutting down: return the job so another worker resumes it now, not after AckWait."""


class AttemptFailed(Exception):
    def __init__(self, code: str, message: str, permanent: bool):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class Signals:
    """Why an attempt must stop early; set from other tasks, checked between reports."""

    def __init__(self, draining: asyncio.Event):
        self.cancel = asyncio.Event()
        self.lease_lost = asyncio.Event()
        self.draining = draining

    async def still_ours(self) -> bool:
        """Asked before each heartbeat: a job whose lease is lost is never extended again."""
        return not self.lease_lost.is_set()

    def raise_if_set(self) -> None:
        if self.lease_lost.is_set():
            raise LeaseLost("the job's lease expired and was taken over")
        if self.cancel.is_set():
            raise Rejected("cancel_requested", "cancelled while transcribing")
        if self.draining.is_set():
            raise HandBack()
