"""HTTP: routers, one module per area, thin — parse, authorise, call, answer."""
