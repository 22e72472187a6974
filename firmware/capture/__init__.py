"""Capture: keep recent frames, pick the one the shutter meant, develop and store it off the sensor's path."""
