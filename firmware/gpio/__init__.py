"""GPIO: the shutter and mode buttons and the status LED, behind one board seam."""
