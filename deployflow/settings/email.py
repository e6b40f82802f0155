"""EMAIL_URL → Django 6.1's MAILERS (SPEC §6).

smtp://host:port                 plain SMTP
smtp+tls://user:pass@host:587    STARTTLS      smtps://user:pass@host:465   implicit TLS
console:                         print messages (the demo)
locmem:                          keep them in memory (tests)
file:DIR                         one .eml file per message under DIR, relative to the
                                 working directory (the demo: file:var/mail); the backend
                                 is dev-only (devtools), so production refuses it
anymail:                         the ESP named by ANYMAIL_ESP (e.g. mailgun, postmark,
                                 amazon_ses); its keys come from ANYMAIL_* variables,
                                 e.g. ANYMAIL_MAILGUN_API_KEY.
"""

import os
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import env_str

SIMPLE = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
SMTP = "django.core.mail.backends.smtp.EmailBackend"
# A dotted path, not an import: production code never imports the dev-only app.
EML_FILES = "devtools.mail.EmlFileBackend"


def mailers_from_url(url: str) -> dict[str, dict[str, Any]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in SIMPLE:
        return {"default": {"BACKEND": SIMPLE[scheme]}}
    if scheme == "file":
        directory = unquote(parts.path)
        if not directory:
            raise ImproperlyConfigured("EMAIL_URL=file: needs a directory, e.g. file:var/mail.")
        return {"default": {"BACKEND": EML_FILES, "OPTIONS": {"file_path": directory}}}
    if scheme == "anymail":
        esp = env_str("ANYMAIL_ESP").strip()
        if not esp:
            raise ImproperlyConfigured("EMAIL_URL=anymail: needs ANYMAIL_ESP, e.g. 'mailgun'.")
        return {"default": {"BACKEND": f"anymail.backends.{esp}.EmailBackend"}}
    if scheme in {"smtp", "smtp+tls", "smtps"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL={url!r} has no host.")
        options: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme],
            "use_tls": scheme == "smtp+tls",
            "use_ssl": scheme == "smtps",
            "timeout": 10,
        }
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        return {"default": {"BACKEND": SMTP, "OPTIONS": options}}
    raise ImproperlyConfigured(
        f"EMAIL_URL scheme {scheme!r} is not one of smtp, smtp+tls, smtps, console, locmem, "
        "file, anymail."
    )


def anymail_settings() -> dict[str, str]:
    """ANYMAIL_<KEY>=value variables → the ANYMAIL setting dict (ANYMAIL_ESP excluded);
    ANYMAIL_<KEY>_FILE names a file holding the value, as for every other variable."""
    names = {
        name.removesuffix("_FILE")
        for name in os.environ
        if name.startswith("ANYMAIL_") and name not in {"ANYMAIL_ESP", "ANYMAIL_ESP_FILE"}
    }
    return {name.removeprefix("ANYMAIL_"): env_str(name) for name in sorted(names)}
