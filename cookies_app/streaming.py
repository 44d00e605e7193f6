"""Row streams for large exports: nothing is held beyond the row being written."""

import csv
import json

from django.core.serializers.json import DjangoJSONEncoder

from .http import JSON_ESCAPES

# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer's file: writerow returns the line instead of storing it."""

    def write(self, value):
        return value


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(fields, rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(fields)
    for row in rows:
        yield writer.writerow([_cell(v) for v in row])


def json_array(fields, rows):
    """A JSON array of objects, one row at a time."""
    yield "["
    separator = "\n"
    for row in rows:
        line = json.dumps(dict(zip(fields, row, strict=True)), cls=DjangoJSONEncoder)
        yield separator + line.translate(JSON_ESCAPES)
        separator = ",\n"
    yield "\n]\n"
