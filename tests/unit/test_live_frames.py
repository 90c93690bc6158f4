"""The Server-Sent Events frames of services/materials/live.py, pure."""
from services.materials.live import frame, hashed, parse_event_id


def test_a_frame_carries_its_id_event_and_one_line_of_json():
    assert frame("changed", {"version": 7, "status": "returned"}, 7) == (
        'id: 7\nevent: changed\ndata: {"version":7,"status":"returned"}\n\n')
    assert frame("ready", {"version": None, "status": None}) == (
        'event: ready\ndata: {"version":null,"status":null}\n\n')


def test_text_with_newlines_cannot_end_a_frame_early():
    text = frame("changed", {"status": "a\n\nevent: forged"}, 1)
    assert text.count("\n\n") == 1 and text.endswith("\n\n")


def test_only_our_own_event_ids_are_believed():
    assert parse_event_id("12") == 12 and parse_event_id(" 3 ") == 3
    for junk in (None, "", "-1", "1.5", "abc", "9" * 20, "1\n2"):
        assert parse_event_id(junk) is None


def test_tickets_are_kept_only_as_a_hash():
    assert hashed("abc") == hashed("abc") != hashed("abd")
    assert "abc" not in hashed("abc") and len(hashed("abc")) == 64
