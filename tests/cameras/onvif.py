"""The credentials of the simulated cameras in tests/cameras (the `cameras` fixture)."""

USER = "admin"
SECRET = "onvif-s3cret-pw"
