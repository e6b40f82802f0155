"""Bearer tokens: made here, shown once, stored as a digest. Expired idempotency keys are
pruned here."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from .models import ApiToken, IdempotencyKey, token_digest, token_generate


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Return the token row and the secret, which is not stored and cannot be shown again."""
    secret = token_generate()
    token = ApiToken.objects.create(
        user=user, name=name, digest=token_digest(secret), hint=secret[:12]
    )
    return token, secret


def api_token_authenticate(*, secret: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # One write per request would cost more than it tells: a minute's precision is enough.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def idempotency_keys_prune() -> int:
    """Deletes the keys past IDEMPOTENCY_KEY_TTL_SECONDS, whose answers are no longer
    replayed (a request with such a key takes it over anyway); returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
