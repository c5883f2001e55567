"""A hidden one-time token on every form whose send creates something (cases.models.submissions)."""

import secrets

from django import forms


class OnceForm(forms.Form):
    """Issues a fresh token with the empty form; a re-rendered form (an error, a preview) keeps the sent one,
    so a Back and confirm-again still carries the token the first confirmation used."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_token"].initial = secrets.token_urlsafe(24)

    @property
    def token(self) -> str:
        return self.cleaned_data.get("form_token", "") if hasattr(self, "cleaned_data") else ""
