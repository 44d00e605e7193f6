from django.db import models
from django.utils import timezone


class Direction(models.TextChoices):
    RECEIVED = "received", "received (browser → server)"
    ISSUED = "issued", "issued (server → browser)"


class CookieEventQuerySet(models.QuerySet):
    def received(self):
        return self.filter(direction=Direction.RECEIVED)

    def issued(self):
        return self.filter(direction=Direction.ISSUED)

    def for_visitor(self, visitor_id):
        return self.filter(visitor_id=visitor_id)

    def of_request(self, request_id):
        return self.filter(request_id=request_id)


class CookieEvent(models.Model):
    """
    One cookie seen by the lab: received in a request, or issued in a response.

    Both directions share one table so a request's whole log is a single bulk
    INSERT and a visitor's history reads as one timeline. Attribute columns are
    filled for issued cookies only.
    """

    direction = models.CharField(max_length=8, choices=Direction.choices)
    observed_at = models.DateTimeField(default=timezone.now, db_index=True)
    request_id = models.UUIDField(db_index=True, help_text="Groups one request's rows.")
    visitor_id = models.CharField(max_length=32, db_index=True, blank=True)
    method = models.CharField(max_length=10)
    host = models.CharField(max_length=512, blank=True)
    path = models.CharField(max_length=512)
    user_agent = models.CharField(max_length=512, blank=True)

    name = models.CharField(max_length=256)
    value = models.TextField(blank=True)
    size = models.PositiveIntegerField(help_text="Bytes of name + value, before any cap.")
    redacted = models.BooleanField(
        default=False, help_text="The value is a keyed hash; the real one is not kept."
    )
    truncated = models.BooleanField(default=False)
    unlogged_in_request = models.PositiveIntegerField(
        default=0, help_text="Cookies of the same request past the per-request cap."
    )

    # Issued cookies only.
    max_age = models.BigIntegerField(null=True, blank=True)
    expires = models.CharField(max_length=64, blank=True)
    cookie_path = models.CharField("Path", max_length=512, blank=True)
    domain = models.CharField(max_length=256, blank=True)
    secure = models.BooleanField(null=True)
    httponly = models.BooleanField("HttpOnly", null=True)
    samesite = models.CharField("SameSite", max_length=8, blank=True)
    partitioned = models.BooleanField(null=True)
    header = models.TextField(blank=True, help_text="The Set-Cookie line as sent.")
    signed = models.BooleanField(null=True, help_text="Issued with set_signed_cookie.")
    salt = models.CharField(max_length=256, blank=True, help_text="The signing salt, if signed.")

    objects = CookieEventQuerySet.as_manager()

    class Meta:
        ordering = ["-observed_at", "-id"]
        indexes = [models.Index(fields=["visitor_id", "-observed_at"])]

    def __str__(self):
        return f"{self.get_direction_display()}: {self.name}"


class ReceivedManager(models.Manager.from_queryset(CookieEventQuerySet)):
    def get_queryset(self):
        return super().get_queryset().received()


class IssuedManager(models.Manager.from_queryset(CookieEventQuerySet)):
    def get_queryset(self):
        return super().get_queryset().issued()


class ReceivedCookie(CookieEvent):
    """The cookies browsers sent (request.COOKIES), one row per cookie."""

    objects = ReceivedManager()

    class Meta:
        proxy = True
        verbose_name = "received cookie"


class IssuedCookie(CookieEvent):
    """The cookies the lab issued (Set-Cookie), with every attribute."""

    objects = IssuedManager()

    class Meta:
        proxy = True
        verbose_name = "issued cookie"
