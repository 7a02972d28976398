"""W3C trace context as it travels in the envelope: parsing only, no OpenTelemetry needed."""


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id inside a W3C traceparent (version-traceid-spanid-flags)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 else None
