"""The event catalogue is derived from one complete union per aggregate."""

from typing import get_args

from voxledger.contracts import catalogue, envelope, subjects
from voxledger.contracts import events as ev
from voxledger.contracts import retention as rt
from voxledger.contracts import webhooks as wh
from voxledger.contracts.events import Event


def _members(union) -> set[type]:
    return set(get_args(union) or (union,))


def _every_event_class() -> set[type]:
    found, todo = set(), [Event]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("voxledger.contracts."):  # not a test's own event
                found.add(sub)
            todo.append(sub)
    return found


def test_the_catalogue_is_the_union_of_the_aggregates_unions():
    unions = [_members(u) for u in catalogue.AGGREGATE_EVENTS.values()]
    assert {cls.__name__: cls for cls in set().union(*unions)} == catalogue.EVENT_TYPES
    # The modules' own registries are the same unions, split by where the events are defined.
    assert {**ev.EVENT_TYPES, **wh.EVENT_TYPES, **rt.EVENT_TYPES} == catalogue.EVENT_TYPES


def test_every_event_type_on_the_events_stream_belongs_to_exactly_one_aggregate():
    owners = {
        cls: [aggregate for aggregate, union in catalogue.AGGREGATE_EVENTS.items() if cls in _members(union)]
        for cls in _every_event_class()
    }
    assert {cls.__name__: aggregates for cls, aggregates in owners.items() if len(aggregates) != 1} == {}
    assert set(catalogue.AGGREGATE_EVENTS) == {
        subjects.RECORDING,
        subjects.API_KEY,
        subjects.WEBHOOK,
        subjects.WEBHOOK_DELIVERY,
        subjects.TENANT,
    }


def test_the_recording_union_holds_all_its_stream_s_event_types():
    # Every event class has exactly one owner (above), so the recording's are all those no other aggregate owns.
    assert {ev.LiveSessionStarted, ev.SpeakersNamed, ev.ChunkTranscribed, ev.PassagesEmbedded} <= _members(
        ev.RecordingEvent
    )


def test_every_catalogued_event_decodes_from_the_wire_registry():
    assert all(envelope.MESSAGE_TYPES[name] is cls for name, cls in catalogue.EVENT_TYPES.items())
