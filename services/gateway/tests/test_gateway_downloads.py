"""An export downloads under the recording's name: safe for every file system, readable in every browser."""

from voxledger.gateway.domain.downloads import attachment


def test_a_plain_name_is_the_file_name():
    assert attachment("Weekly sync", "srt") == (
        "attachment; filename=\"Weekly sync.srt\"; filename*=UTF-8''Weekly%20sync.srt"
    )


def test_path_quote_control_and_direction_characters_never_reach_the_file_name():
    header = attachment('../Q3 "plan"\u202egpj.exe\r\n', "txt")
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback == "_Q3 _plan_gpj.exe.txt"  # leading dots trimmed, each unsafe run one underscore
    assert "\u202e" not in header and "\r" not in header and "/" not in header.split(";")[1]


def test_a_name_beyond_ascii_keeps_its_letters_in_filename_star():
    header = attachment("Réunion équipe", "vtt")
    assert 'filename="Reunion equipe.vtt"' in header
    assert "filename*=UTF-8''R%C3%A9union%20%C3%A9quipe.vtt" in header


def test_a_name_of_nothing_but_unsafe_characters_is_called_recording():
    assert 'filename="recording.txt"' in attachment("...", "txt")
