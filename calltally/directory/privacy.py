"""Privacy masking of the outside numbers shown in calls."""

from __future__ import annotations

MASK = "*"
DIGITS = frozenset("0123456789")


def mask(number: str, digits: int) -> str:
    """``number`` with its last ``digits`` digits shown as ``*``.

    Only digits are masked and counted: a leading ``+`` and any separators stay
    where they are, and a number with fewer digits than asked has all its digits
    masked, never more. ``mask("+390612345678", 4) == "+39061234****"``.
    """
    if digits <= 0 or not number:
        return number
    chars = list(number)
    left = digits
    for index in range(len(chars) - 1, -1, -1):
        if chars[index] in DIGITS:
            chars[index] = MASK
            left -= 1
            if not left:
                break
    return "".join(chars)
