"""Policy settings: named local choices where NG126 is silent or ambiguous.

Each setting carries its default and the reason for it, and both appear in every assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StopAt = Literal["16+0", "16+6"]
Product = Literal["utrogestan", "cyclogest", "prometrium"]

STOP_DAY = {"16+0": 16 * 7, "16+6": 16 * 7 + 6}


@dataclass(frozen=True)
class Policy:
    """Local choices. Build one with `Policy(stop_at="16+6")` to change a default."""

    stop_at: StopAt = "16+0"
    preferred_product: Product = "utrogestan"

    def __post_init__(self) -> None:
        if self.stop_at not in STOP_DAY:
            raise ValueError(f"stop_at must be one of {sorted(STOP_DAY)}")
        if self.preferred_product not in ("utrogestan", "cyclogest", "prometrium"):
            raise ValueError("preferred_product must be utrogestan, cyclogest or prometrium")

    @property
    def stop_day(self) -> int:
        """Gestation in days on which progesterone stops (and beyond which it is not offered)."""
        return STOP_DAY[self.stop_at]

    def describe(self) -> dict[str, dict[str, str]]:
        return {
            "stop_at": {
                "value": self.stop_at,
                "default": "16+0",
                "reason": (
                    "NG126 1.5.3 says 'until 16 completed weeks'; the PRISM trial gave progesterone "
                    "'to 16 weeks', so the default stops on the day gestation reaches 16+0. "
                    "A unit may choose 16+6."
                ),
            },
            "preferred_product": {
                "value": self.preferred_product,
                "default": "utrogestan",
                "reason": (
                    "NG126 names no product. Utrogestan 200 mg (2 capsules a dose) is the most widely "
                    "stocked; a peanut or soya allergy always excludes soya-lecithin products."
                ),
            },
        }


DEFAULT_POLICY = Policy()
