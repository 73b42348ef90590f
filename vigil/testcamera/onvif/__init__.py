"""ONVIF Profile S services of the simulated cameras: SOAP 1.2 over HTTP, one module per service."""
