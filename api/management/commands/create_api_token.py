from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.selectors import api_token_refusal
from api.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API bearer token for USERNAME and print it (it is shown only once). "
        "Refused, with the reason, for a user who could never use it: an inactive user, or "
        "one holding none of the permissions the API checks (viewing versions, projects or "
        "deployments; adding, marking ready, re-staging, deploying or approving versions), "
        "directly, through a group such as Ops, or as a superuser. Being staff alone is not "
        "enough: the API checks a permission on every call."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: options["username"]})
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        refusal = api_token_refusal(user=user)
        if refusal is not None:
            raise CommandError(f"No token made: {refusal}")
        _, secret = api_token_create(user=user, name=options["name"])
        self.stdout.write(secret)
