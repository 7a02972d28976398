"""The event store on a real JetStream: a retried append whose first try landed (its ack lost in a broker
restart) counts as done, never as a conflict or a second copy; a real concurrent write still conflicts."""

import pytest

from voxledger.contracts import subjects
from voxledger.contracts.envelope import seal
from voxledger.contracts.events import RecordingUploaded
from voxledger.contracts.ids import new_id
from voxledger.runtime.eventstore import ConcurrencyConflict, EventStore


def uploaded(recording_id: str, filename: str):
    body = RecordingUploaded(
        filename=filename, content_type="audio/wav", size_bytes=1, blob_key="none", blob_digest="none"
    )
    return seal(body, aggregate_id=recording_id, tenant_id="event-store-test")


async def test_a_retried_append_that_already_landed_is_kept_once(nc):
    store, recording_id = EventStore(nc.jetstream()), new_id()
    message = uploaded(recording_id, "a.wav")
    first = await store.append(subjects.RECORDING, recording_id, [message], 0)
    retried = await store.append(subjects.RECORDING, recording_id, [message], 0)
    with pytest.raises(ConcurrencyConflict):
        await store.append(subjects.RECORDING, recording_id, [uploaded(recording_id, "b.wav")], 0)
    loaded, last = await store.load(subjects.RECORDING, recording_id)
    history, event_id = [m.envelope.event_id for m in loaded], message.envelope.event_id
    assert retried == first == last, "the retry reports the first try's sequence"
    assert history == [event_id], "exactly one copy, and the conflicting writer's event is not in the log"
