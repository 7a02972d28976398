"""One upload is one trace across the services, exported over OTLP to a collector."""

import time

from tests.helpers import new_client, upload, wait_job
from tests.otlp_receiver import OtlpReceiver
from voxledger.stack.supervisor import Stack


def test_an_upload_is_one_trace_across_gateway_transcriber_and_postproc(tmp_path):
    data = tmp_path / "data"
    with OtlpReceiver() as collector:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with Stack(data, log_dir=data / "logs", env=env) as stack, new_client(stack, "tracing") as client:
            accepted = upload(client, "short_meeting.ogg").json()
            job = wait_job(client, accepted["job_id"])
            assert job["status"] == "completed" and job["trace_id"]
            deadline = time.monotonic() + 60
            while collector.services_in_trace(job["trace_id"]) != {"gateway", "transcriber", "postproc"}:
                assert time.monotonic() < deadline, collector.services_in_trace(job["trace_id"])
                time.sleep(0.2)
    names = {s["name"] for s in collector.spans if s["trace_id"] == job["trace_id"]}
    assert "transcribe" in names and "insights" in names
