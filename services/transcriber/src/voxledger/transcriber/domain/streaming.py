"""Moved to voxledger.transcriber.live.domain.streaming (the live worker's domain).

Kept only so that tests/test_transcriber_streaming.py, which another change owns, still imports;
delete this once that file imports the new path.
"""

from voxledger.transcriber.live.domain.streaming import SAMPLE_RATE, PolicyConfig, Step, StreamingPolicy

__all__ = ["SAMPLE_RATE", "PolicyConfig", "Step", "StreamingPolicy"]
