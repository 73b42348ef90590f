"""Simulated IP cameras: RTSP, ONVIF, events, plate reads and faults on demand.

`vigil testcamera` runs many of them in one process. Video is encoded once per stream profile
into a cache on disk and served as a loop; serving never encodes.
"""
