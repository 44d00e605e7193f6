"""Response helpers every view shares."""

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect

# Cookie text in JSON cannot close a <script> or open a tag, wherever it lands.
JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


class InertJSONEncoder(DjangoJSONEncoder):
    def encode(self, o):
        return super().encode(o).translate(JSON_ESCAPES)


# JsonResponse's own, made once: json.dumps(cls=...) builds an encoder every call.
INERT_JSON = InertJSONEncoder()


def json_response(data, status=200):
    # Bytes: HttpResponse would look the charset up in the content type (a
    # regex) to encode a str. The encoder's output is ASCII (ensure_ascii).
    body = INERT_JSON.encode(data).encode()
    return HttpResponse(body, status=status, content_type="application/json")
