from __future__ import annotations

from django import forms

from .models import time_zone_names


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(time_zone_names())]


class StatusSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        widget=forms.Select(attrs={"aria-describedby": "id_time_zone_help"}),
        help_text="Times on your status pages and in your emails are shown in this zone.",
    )
    incident_emails = forms.BooleanField(
        required=False,
        label="Email me when an incident opens or resolves on my projects",
    )
