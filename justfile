# voxledger tasks. Run them through uv so the environment is always in sync: `uv run just <task>`.

default:
    @just --list

# Run the embedded stack (NATS, PostgreSQL, gateway, transcriber, projector) until Ctrl-C
up *ARGS:
    uv run voxledger up {{ARGS}}

# Transcribe the bundled sample end to end and print the transcript
demo:
    uv run voxledger demo

# The whole test suite: unit tests, then integration tests on a real stack (installs Debian's Chromium and nginx if missing)
test *ARGS:
    bash scripts/ensure_chromium.sh
    bash scripts/ensure_nginx.sh
    uv run pytest {{ARGS}}

# The gate CI runs before the tests: lint, format and types (Python and the web app), each with zero findings
lint:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy
    uv run biome ci

# The documentation site (mkdocs.yml, docs/) into site/, strict: a broken link or anchor fails it. Serve it: `uv run mkdocs serve`
docs:
    NO_MKDOCS_2_WARNING=1 uv run mkdocs build --strict --site-dir site

# The web app's unit tests (node's own runner; node and the status vocabulary come from the uv environment)
js-test:
    uv run node --import ./tests/js/register.mjs --test tests/js/*.test.mjs

# Chaos tests only: real processes killed mid-work (also part of `test`)
chaos:
    uv run pytest tests/chaos -v

# Fuzz suite only: schemathesis on the OpenAPI document and property tests of WS /v1/live, on a real stack (also the last part of `test`)
fuzz *ARGS:
    uv run pytest tests/fuzz {{ARGS}}

# Unit tests only (pure domain code, no servers)
unit:
    uv run pytest contracts/tests services -q

# Every benchmark, one after another; each prints a table
bench: bench-pipeline bench-insights bench-engines bench-crash bench-projector bench-replay bench-search bench-ryw bench-live bench-encryption bench-diarization bench-load bench-chunked bench-ask

# Kill -9 a worker mid-job: extra compute of resume against a clean run, and recovery time
bench-crash *ARGS:
    uv run python -m bench.crash_resume {{ARGS}}

# Live transcription: interim and final latency, sessions per worker, streaming against batch WER
bench-live *ARGS:
    uv run python -m bench.live_latency {{ARGS}}

# Pipeline overhead against raw faster-whisper, and 202 latencies
bench-pipeline *ARGS:
    uv run python -m bench.pipeline {{ARGS}}

# Insight kinds in parallel against the slowest kind
bench-insights *ARGS:
    uv run python -m bench.insights_parallel {{ARGS}}

# Built-in insight engines on a one-hour transcript
bench-engines *ARGS:
    uv run python -m bench.insight_engines {{ARGS}}

# Projector throughput (events/s, checkpoint included) and light-load visibility latency
bench-projector *ARGS:
    uv run python -m bench.projector_throughput {{ARGS}}

# Full replay of 1,000,000 events into shadow tables, then the atomic swap
bench-replay *ARGS:
    uv run python -m bench.replay {{ARGS}}

# Transcript search p50/p95 over 10,000 transcripts
bench-search *ARGS:
    uv run python -m bench.search {{ARGS}}

# Asking: recall@1/@5, MRR, not-found share and latency of keyword, semantic and hybrid search and /v1/ask
bench-ask *ARGS:
    uv run python -m bench.ask {{ARGS}}

# Latency a read-your-writes token adds to a read right after a 202
bench-ryw *ARGS:
    uv run python -m bench.read_your_writes {{ARGS}}

# What crypto-shredding costs: projector throughput and one job end to end, sealed and in clear
bench-encryption *ARGS:
    uv run python -m bench.encryption {{ARGS}}

# Diarization: DER and speaker count per fixture, and what it adds to a 5-minute job's compute
bench-diarization *ARGS:
    uv run python -m bench.diarization {{ARGS}}

# Open-loop load for five minutes through two gateways into two transcribers: rates, latencies, lag, bottleneck
bench-load *ARGS:
    uv run python -m bench.load {{ARGS}}

# Rebuild the read models from the event log with no downtime, and print their digest
replay *ARGS:
    uv run voxledger replay {{ARGS}}

# Issue an API key for a tenant on the running stack
key TENANT:
    uv run voxledger keys create --tenant {{TENANT}}

# Regenerate the speech fixtures (needs espeak-ng)
fixtures:
    bash scripts/make_fixtures.sh
    uv run python scripts/make_diarization_fixtures.py

# One long recording across one and two transcribers (speed-up, WER), and a 4-hour file's peak RSS
bench-chunked *ARGS:
    uv run python -m bench.chunked {{ARGS}}
