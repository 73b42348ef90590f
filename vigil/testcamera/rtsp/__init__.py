"""The test cameras' RTSP server (RFC 2326 / 7826) and RTP/RTCP (RFC 3550, 6184, 7798)."""
