"""camerad: the daemon that owns the camera."""
