"""camtune: build, check and calibrate tuning files, and make mock captures to calibrate from."""
