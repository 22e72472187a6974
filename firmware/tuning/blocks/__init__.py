"""One module per libcamera tuning block: its typed view, how it is read, and what is wrong with it.

As in libcamera's ``Algorithm::read``, each block's ``parse`` reads its own numbers through a ``BlockReader``:
the ISP stages and the mock's IPA get the typed view (``Ccm.read(tuning)``), ``camtune validate`` the findings
of the very same reading. ``REGISTRY`` maps each block name libcamera knows to the class that reads it.

>>> Ccm.read(TuningFile.from_dict({"version": 2.0, "algorithms": [{"rpi.ccm": {"ccms": [
...     {"ct": 5000, "ccm": [1, 0, 0, 0, 1, 0, 0, 0, 1]}]}}]})).cts
(5000.0,)
"""

from ..file import TuningFile  # noqa: F401  (the doctest's)
from .agc import Agc, AgcChannel, AgcConstraint
from .alsc import Alsc
from .awb import Awb, AwbCurve
from .black_level import BlackLevel
from .ccm import Ccm, apply_saturation
from .contrast import Contrast
from .denoise import Denoise, Sdn
from .dpc import Dpc
from .geq import Geq
from .lux import Lux
from .noise import Noise
from .others import Cac, Hdr, Opaque, Saturation, Tonemap
from .reader import BlockReader, read_block
from .sharpen import Sharpen

REGISTRY: dict[str, type] = {
    "rpi.black_level": BlackLevel, "rpi.dpc": Dpc, "rpi.lux": Lux, "rpi.noise": Noise, "rpi.geq": Geq,
    "rpi.sdn": Sdn, "rpi.denoise": Denoise, "rpi.awb": Awb, "rpi.nn.awb": Awb, "rpi.agc": Agc, "rpi.alsc": Alsc,
    "rpi.contrast": Contrast, "rpi.ccm": Ccm, "rpi.sharpen": Sharpen, "rpi.cac": Cac, "rpi.hdr": Hdr,
    "rpi.tonemap": Tonemap, "rpi.saturation": Saturation, "rpi.af": Opaque, "rpi.sync": Opaque,
    "rpi.decompand": Opaque,
}

__all__ = ["Agc", "AgcChannel", "AgcConstraint", "Alsc", "Awb", "AwbCurve", "BlackLevel", "BlockReader", "Ccm",
           "Contrast", "Denoise", "Dpc", "Geq", "Lux", "Noise", "REGISTRY", "Sdn", "Sharpen", "apply_saturation",
           "read_block"]
