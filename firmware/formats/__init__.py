"""File formats a capture is written in: DNG (raw), JPEG with EXIF, and a JSON sidecar."""
