"""The sentences tenants read for each failure code: fixed, plain, never a detail. Pure."""

from voxledger.contracts.failures import PUBLIC_MESSAGES, public_message


def test_every_public_message_is_a_plain_sentence_without_details():
    for code, message in PUBLIC_MESSAGES.items():
        assert message == message.strip() and message[0].islower(), code
        assert not any(leak in message for leak in ("/", "\\", "Error", "Exception", "{", "%")), code
        assert not any(ch.isdigit() for ch in message), f"{code}: numbers (limits, sizes) stay in the logs"


def test_a_code_without_its_own_sentence_reads_as_an_internal_failure():
    assert public_message("segment_gap") == public_message("internal_error") == PUBLIC_MESSAGES["internal_error"]
