# voxledger tasks. Run them through uv so the environment is always in sync: `uv run just <task>`.

default:
    @just --list

# Run the embedded stack (NATS, PostgreSQL, gateway, transcriber, projector) until Ctrl-C
up *ARGS:
    uv run voxledger up {{ARGS}}

# Transcribe the bundled sample end to end and print the transcript
demo:
    uv run voxledger demo

# The whole test suite: unit tests, then integration tests on a real stack
test *ARGS:
    uv run pytest {{ARGS}}

# Unit tests only (pure domain code, no servers)
unit:
    uv run pytest contracts/tests services -q

# Pipeline overhead and latency benchmark; prints a table
bench *ARGS:
    uv run python -m bench.pipeline {{ARGS}}

# Issue an API key for a tenant on the running stack
key TENANT:
    uv run voxledger keys create --tenant {{TENANT}}

# Regenerate the speech fixtures (needs espeak-ng)
fixtures:
    bash scripts/make_fixtures.sh
