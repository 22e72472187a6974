"""Colour science on the ground floor: what the DNG writer, the ISP's tools, the mock sensor and calibration share.

* ``matrices`` - fixed, published constants (linear sRGB <-> CIE XYZ, the Bradford transform, the DNG
  calibration illuminants); numpy only, so the device can use them;
* ``spectra`` - colour-science's spectral data on one 10 nm grid: CIE daylight, Planckian and fluorescent
  illuminants, the CIE 1931 observer, the ColorChecker's measured reflectances, measured camera
  sensitivities and the Mallett-Yuksel basis (host side: colour-science is a tool and test dependency);
* ``chart`` - the ColorChecker's reference colours under a light, CIE Lab and CIEDE2000.

Nothing here imports another ``firmware`` package: calibration (``calibrate``) and the mock sensor
(``sensor.mock``) both stand on it, and neither needs the other.
"""
