"""Events as a tenant sees them on its event streams."""

import msgspec

from voxledger.gateway.schemas import public_event_data


def test_passages_on_the_event_stream_carry_no_embeddings():
    passage = {"index": 0, "kind": "turn", "start": 0.0, "end": 2.0, "text": "hello", "vector": "AAAA", "speaker": "S1"}
    raw = msgspec.json.encode({"job_id": "j", "model": "m", "dimensions": 384, "passages": [passage]})
    shown = msgspec.json.decode(public_event_data("PassagesEmbedded", msgspec.Raw(raw)))
    assert shown["passages"] == [{k: v for k, v in passage.items() if k != "vector"}]
    assert public_event_data("SegmentsTranscribed", msgspec.Raw(raw)) == msgspec.Raw(raw)
