from django.db import migrations


class Migration(migrations.Migration):
    """The event log's old table goes once 0005 has carried its rows over."""

    dependencies = [
        ("cookies_app", "0005_carry_log"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='cookieevent',
            name='cookies_app_visitor_a4ad17_idx',
        ),
        migrations.DeleteModel(
            name='IssuedCookie',
        ),
        migrations.DeleteModel(
            name='ReceivedCookie',
        ),
        migrations.DeleteModel(
            name='CookieEvent',
        ),
    ]
