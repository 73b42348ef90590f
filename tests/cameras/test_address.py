"""Camera stream URLs as users and cameras write them: what is kept, what is taken out."""

import pytest

from vigil.cameras.address import StreamUrl


@pytest.mark.parametrize("url", ["http://cam/stream", "rtsp:///nohost", "cam1/main", "rtsp://[::1"])
def test_stream_urls_must_be_rtsp_with_a_host(url: str) -> None:
    with pytest.raises(ValueError, match="rtsp://"):
        StreamUrl.parse(url)


def test_stream_url_credentials_are_taken_out() -> None:
    url = StreamUrl.parse("rtsp://ad%40min:p%3Ass@10.0.0.5:8554/live?ch=1")
    assert (url.url, url.host, url.port) == ("rtsp://10.0.0.5:8554/live?ch=1", "10.0.0.5", 8554)
    assert (url.user, url.password) == ("ad@min", "p:ss")
    assert "p:ss" not in repr(url)
