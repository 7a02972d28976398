"""Runtime glue every service shares: settings, logging, telemetry, JetStream and Postgres helpers."""
