"""The Z H process of the embedded generator: q q̄ → Z* → Z H → ℓ⁻ℓ⁺ H with (g_c, a₂, a₃).

:mod:`.amplitude` holds the closed-form |M̄|² (helicity amplitudes), :mod:`.process` the
generator/truth interface.
"""

from __future__ import annotations

from .amplitude import ZH_PARAMETERS, ZHME, z_couplings, zh_angles
from .process import ZHProcess

__all__ = ["ZHME", "ZHProcess", "ZH_PARAMETERS", "z_couplings", "zh_angles"]
