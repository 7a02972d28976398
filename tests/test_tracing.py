"""One upload is one trace across the services, exported over OTLP to a collector."""

from tests.helpers import eventually, new_client, started_stack, upload, wait_job
from tests.otlp_receiver import OtlpReceiver


def test_an_upload_is_one_trace_across_gateway_transcriber_and_postproc(tmp_path):
    with OtlpReceiver() as collector:  # outlives the stack, so the services' last spans at shutdown land somewhere
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with started_stack(tmp_path / "data", env=env) as stack, new_client(stack, "tracing") as client:
            accepted = upload(client, "short_meeting.ogg").json()
            job = wait_job(client, accepted["job_id"])
            assert job["status"] == "completed" and job["trace_id"]
            every_service = {"gateway", "transcriber", "postproc"}
            eventually(lambda: collector.services_in_trace(job["trace_id"]) == every_service, "the whole trace", 60)
    names = {s["name"] for s in collector.spans if s["trace_id"] == job["trace_id"]}
    assert "transcribe" in names and "insights" in names
