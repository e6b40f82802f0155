"""The token in a feed's address: `<user id>-<mac>`, where the mac is an HMAC, keyed with the
SECRET_KEY, of the user, their feed generation and the project.

Nothing secret is stored: the database holds only the generation, which a reset moves on,
so every older address of the user answers 404. A token opens one project's feed, so a
leaked address shows nothing else of the user's. Keys in SECRET_KEY_FALLBACKS are still
accepted, so rotating the SECRET_KEY the documented way keeps feed addresses working.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "status.feed"
_MAC_CHARS = 32  # 128 bits


def _mac(*, user_id: int, generation: int, project_id: int, secret: str) -> str:
    value = f"{user_id}:{generation}:{project_id}"
    mac = salted_hmac(_SALT, value, secret=secret, algorithm="sha256").hexdigest()
    return mac[:_MAC_CHARS]


def feed_token(*, user_id: int, generation: int, project_id: int) -> str:
    mac = _mac(
        user_id=user_id, generation=generation, project_id=project_id, secret=settings.SECRET_KEY
    )
    return f"{user_id}-{mac}"


def feed_token_user_id(token: str) -> int | None:
    """Whose token it claims to be (to be checked with `feed_token_matches`)."""
    user_part, _, mac = token.partition("-")
    if not user_part.isascii() or not user_part.isdigit() or len(mac) != _MAC_CHARS:
        return None
    return int(user_part)


def feed_token_matches(token: str, *, user_id: int, generation: int, project_id: int) -> bool:
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        mac = _mac(
            user_id=user_id, generation=generation, project_id=project_id, secret=str(secret)
        )
        if constant_time_compare(token, f"{user_id}-{mac}"):
            return True
    return False
