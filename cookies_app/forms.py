from functools import cache

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError

from . import attributes, rules
from .rules import Severity, Source, expiry

# A 32-bit range keeps Expires (computed from Max-Age) a date any server can print.
MAX_AGE_LIMIT = 2**31 - 1
SEND_ANYWAY_HINT = "Tick “send anyway” to send it regardless and watch the browser drop it."


class CookieRulesMixin:
    """Runs the rules module; `refused` (and, unless allowed, `error`) block."""

    def __init__(self, *args, context=None, source=Source.SERVER, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = context or rules.RequestContext()
        self.source = Source(source)
        self.findings = []
        for name, form_field in self.fields.items():
            # Labels are the parameter names, so the form reads like the call.
            form_field.label = form_field.label or name
            # The rules module explains control characters, NUL included, with
            # a fix; Django's generic NUL check would answer first and say less.
            form_field.validators = [
                v
                for v in form_field.validators
                if not isinstance(v, validators.ProhibitNullCharactersValidator)
            ]

    def apply_rules(self, cookie, allow_errors=False):
        self.findings = rules.evaluate(cookie, self.context)
        for finding in self.findings:
            target = finding.field if finding.field in self.fields else None
            if finding.severity == Severity.REFUSED:
                self.add_error(target, finding.message)
            elif finding.severity == Severity.ERROR and not allow_errors:
                self.add_error(target, f"{finding.message} {SEND_ANYWAY_HINT}")


class SetCookieForm(CookieRulesMixin, forms.Form):
    """Fields named exactly like HttpResponse.set_cookie's parameters."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each parameter explains itself where it is set.
        for name, form_field in self.fields.items():
            explained = attributes.help_html(name)
            if explained:
                form_field.help_text = explained

    key = forms.CharField(label="key", required=False, strip=False, max_length=256)
    value = forms.CharField(label="value", required=False, strip=False, widget=forms.TextInput)
    max_age = forms.IntegerField(
        label="max_age",
        required=False,
        min_value=-MAX_AGE_LIMIT,
        max_value=MAX_AGE_LIMIT,
        help_text="Seconds. 0 or less deletes the cookie.",
        error_messages={"invalid": "max_age must be a whole number of seconds, e.g. 3600."},
    )
    expires = forms.DateTimeField(
        label="expires",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}),
        help_text=f"UTC, {expiry.RANGE.removesuffix(' UTC')}.",
        error_messages={
            "invalid": "expires must be a UTC date and time such as 2030-01-31T12:00, "
            f"{expiry.RANGE}."
        },
    )
    path = forms.CharField(
        label="path",
        required=False,
        strip=False,
        initial="/",
        help_text="Blank: no Path attribute.",
    )
    domain = forms.CharField(
        label="domain", required=False, strip=False, help_text="Blank: host-only."
    )
    secure = forms.BooleanField(label="secure", required=False)
    httponly = forms.BooleanField(label="httponly", required=False)
    samesite = forms.ChoiceField(
        label="samesite",
        required=False,
        choices=rules.SAMESITE_CHOICES,
        error_messages={
            "invalid_choice": "samesite must be Lax, Strict or None, or blank to leave "
            "it out; %(value)s is not one of them."
        },
    )
    partitioned = forms.BooleanField(
        label="partitioned",
        required=False,
        help_text="Not in Django's set_cookie: Cookie Lab adds it.",
    )
    signed = forms.BooleanField(
        label="signed",
        required=False,
        help_text="Use set_signed_cookie: the value is signed with the site's key.",
    )
    salt = forms.CharField(
        label="salt", required=False, strip=False, max_length=256, help_text="For signed."
    )
    send_anyway = forms.BooleanField(
        label="send anyway",
        required=False,
        help_text="Send it even if the browser is predicted to drop it.",
    )

    def clean_expires(self):
        # Django also reads ISO 8601 with an offset here: converting
        # 0001-01-01T00:00+01:00 to UTC would overflow later, so it happens now.
        when = self.cleaned_data["expires"]
        try:
            return None if when is None else expiry.to_utc(when, "expires")
        except expiry.ExpiryError as error:
            raise ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        both = data.get("max_age") is not None and data.get("expires") is not None
        if both and self.source == Source.SERVER:
            self.add_error(
                "expires",
                "Give max_age or expires, not both: Django's set_cookie refuses the pair "
                "(\"'expires' and 'max_age' can't be used together\").",
            )
        if "key" in data and "value" in data:
            self.apply_rules(self.proposed_cookie(data), allow_errors=data.get("send_anyway"))
        return data

    def proposed_cookie(self, data):
        return rules.ProposedCookie(
            name=data["key"],
            value=data["value"],
            max_age=data.get("max_age"),
            expires=data.get("expires"),
            path=data.get("path", ""),
            domain=data.get("domain", ""),
            secure=data.get("secure", False),
            httponly=data.get("httponly", False),
            samesite=data.get("samesite", ""),
            partitioned=data.get("partitioned", False),
            source=self.source,
        )

    @property
    def cookie(self):
        """The cookie to send, as the rules judged it."""
        return self.proposed_cookie(self.cleaned_data)


class DeleteCookieForm(CookieRulesMixin, forms.Form):
    """HttpResponse.delete_cookie's parameters."""

    def __init__(self, *args, **kwargs):
        # Its own ids: the set form on the same page has fields of the same names.
        kwargs.setdefault("auto_id", "id_delete_%s")
        super().__init__(*args, **kwargs)

    key = forms.CharField(label="key", required=False, strip=False, max_length=256)
    path = forms.CharField(label="path", required=False, strip=False, initial="/")
    domain = forms.CharField(label="domain", required=False, strip=False)

    def clean(self):
        data = super().clean()
        if "key" in data:
            # Deleting sends an expired cookie; only what the server refuses blocks.
            cookie = rules.ProposedCookie(
                name=data["key"],
                value="deleted",
                path=data.get("path", ""),
                domain=data.get("domain", ""),
            )
            self.apply_rules(cookie, allow_errors=True)
        return data

    def delete_cookie_kwargs(self):
        data = self.cleaned_data
        return {"key": data["key"], "path": data["path"] or "/", "domain": data["domain"] or None}


@cache
def blank_form_html(form_class):
    """
    An unbound form renders the same for everyone: render it once per process
    (half the lab page's rendering time otherwise).
    """
    return form_class().as_div()
