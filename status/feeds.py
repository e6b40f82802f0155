"""A private Atom feed per user and project: its deploys and incidents, in the client's words.

Its address carries a token (tokens.py) instead of a session, so a feed reader can fetch it.
A wrong token, a token of a user who may not see the project and an unknown project all
answer the same 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from automations.models import Project

from .pages import FeedEntry, feed_entries
from .selectors import feed_user, status_profile, visible_project
from .tokens import feed_token_matches, feed_token_user_id

ENTRIES = 50


@dataclass(frozen=True)
class Subscription:
    project: Project
    user: User

    @property
    def page_url(self) -> str:
        return reverse("status:project", args=[self.project.slug])


class ProjectFeed(Feed):
    feed_type = Atom1Feed
    # Atom wants an author for the feed or for each entry.
    author_name = "deployflow"

    def get_object(self, request: HttpRequest, slug: str, token: str) -> Subscription:
        user_id = feed_token_user_id(token)
        user = feed_user(user_id=user_id) if user_id is not None else None
        project = visible_project(user=user, slug=slug) if user is not None else None
        if (
            user is None
            or project is None
            or not feed_token_matches(
                token,
                user_id=user.pk,
                generation=status_profile(user=user).feed_generation,
                project_id=project.pk,
            )
        ):
            raise Http404("No such feed.")
        return Subscription(project=project, user=user)

    def title(self, obj: Subscription) -> str:
        return f"{obj.project.name} · {obj.project.client.name} — status"

    def subtitle(self, obj: Subscription) -> str:
        return f"Deploys and incidents of {obj.project.name}."

    def link(self, obj: Subscription) -> str:
        return obj.page_url

    def feed_guid(self, obj: Subscription) -> str:
        # One id per project, whichever member reads it: it is the same project's story.
        return f"{settings.SITE_URL}{obj.page_url}"

    def items(self, obj: Subscription) -> list[FeedEntry]:
        return feed_entries(project=obj.project, limit=ENTRIES)

    def item_title(self, item: FeedEntry) -> str:
        return item.title

    def item_description(self, item: FeedEntry) -> str:
        return item.summary

    def item_link(self, item: FeedEntry) -> str:
        return item.link

    def item_guid(self, item: FeedEntry) -> str:
        # Atom ids are URIs: the entry's place on the page, the same for every reader.
        return f"{settings.SITE_URL}{item.link.split('#')[0]}#{item.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: FeedEntry) -> datetime:
        return item.at

    def item_updateddate(self, item: FeedEntry) -> datetime:
        return item.at
