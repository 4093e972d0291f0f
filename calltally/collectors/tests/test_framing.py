import pytest

from calltally.collectors.base import ConfigError
from calltally.collectors.common import Backoff, Framer, address_allowed, parse_allow
from calltally.collectors.tcp_connect import parse_login_script


def feed_all(framer, chunks):
    out = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


@pytest.mark.parametrize("framing,data", [
    ("auto", b"a1\r\nb2\nc3\rd4\n"),
    ("lf", b"a1\nb2\nc3\nd4\n"),
    ("crlf", b"a1\r\nb2\r\nc3\r\nd4\r\n"),
    ("cr", b"a1\rb2\rc3\rd4\r"),
    ("stx-etx", b"noise\x02a1\x03\r\n\x02b2\x03\x02c3\x03junk\x02d4\x03"),
])
def test_framings_split_records_whatever_the_chunking(framing, data):
    whole = feed_all(Framer(framing), [data])
    assert whole == [b"a1", b"b2", b"c3", b"d4"]
    for size in (1, 2, 3, 5):
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert feed_all(Framer(framing), chunks) == whole


def test_unterminated_tail_stays_in_memory():
    framer = Framer("lf")
    assert framer.feed(b"one\ntw") == [b"one"]
    assert framer.buffer == b"tw"
    assert framer.feed(b"o\n") == [b"two"]


@pytest.mark.parametrize("framing,data,last", [
    ("auto", b"a1\nb2", b"b2"),
    ("lf", b"a1\nb2", b"b2"),
    ("crlf", b"a1\r\nb2\r", b"b2"),
    ("cr", b"a1\rb2", b"b2"),
    ("stx-etx", b"\x02a1\x03\x02b2", b"b2"),
])
def test_the_end_of_the_stream_ends_its_last_record(framing, data, last):
    framer = Framer(framing)
    assert framer.feed(data) == [b"a1"]
    assert framer.pending == len(data) - data.index(last)
    assert framer.end() == [last]
    assert (framer.pending, framer.end()) == (0, [])


def test_noise_after_the_last_stx_etx_record_is_no_record_at_the_end():
    framer = Framer("stx-etx")
    assert framer.feed(b"\x02a1\x03\r\njunk") == [b"a1"]
    assert (framer.pending, framer.end()) == (0, [])


def test_long_record_is_cut_and_memory_stays_bounded():
    framer = Framer("lf", max_record=16)
    out = feed_all(framer, [b"x" * 10] * 10)
    assert all(len(record) == 16 for record in out)
    assert len(framer.buffer) <= 16
    assert framer.cut == len(out)
    framer2 = Framer("stx-etx", max_record=16)
    out2 = feed_all(framer2, [b"\x02" + b"y" * 40 + b"\x03"])
    assert b"".join(out2) == b"y" * 40 and max(map(len, out2)) == 16


def test_bad_framing_is_a_config_error():
    with pytest.raises(ConfigError):
        Framer("xml")


def test_allow_list():
    networks = parse_allow("10.0.0.0/24, 127.0.0.1")
    assert address_allowed("10.0.0.9", networks)
    assert address_allowed("127.0.0.1", networks)
    assert address_allowed("::ffff:127.0.0.1", networks)
    assert not address_allowed("10.0.1.9", networks)
    assert address_allowed("192.0.2.1", [])
    with pytest.raises(ConfigError):
        parse_allow("10.0.0.300")


def test_login_script_format():
    steps = parse_login_script(r"expect:Password:|send:pccsmdr\r|sleep:0.5|send:a\|b|send-env:PBX_PASS")
    assert steps == [("expect", "Password:"), ("send", "pccsmdr\r"), ("sleep", "0.5"), ("send", "a|b"),
                     ("send-env", "PBX_PASS")]
    with pytest.raises(ConfigError):
        parse_login_script("wait:foo")


def test_backoff_doubles_to_sixty_seconds():
    backoff = Backoff()
    delays = [backoff.next() for _ in range(9)]
    assert delays[:4] == [1, 2, 4, 8] and delays[-1] == 60
    backoff.reset()
    assert backoff.next() == 1
