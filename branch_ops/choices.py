"""Labels of choice values, as ``get_FOO_display()`` shows them, at a lookup's cost.

Django's generated ``get_FOO_display()`` rebuilds a dictionary of the field's choices on
every call, hashing each choice's lazy label on the way, and hashing a lazy label
translates it: a call on a field with 14 choices runs 14 translations to show one label
(about 60 µs). A list page calls it once or twice per row. A model whose lists show a
choice field defines its own ``get_FOO_display()`` with :func:`choice_label`, which
translates the one label shown.
"""

from __future__ import annotations

from django.db import models
from django.utils.encoding import force_str


def choice_label(choices: type[models.Choices], value) -> str:
    """The label of ``value`` in the active language; a value that is not one of the
    choices is shown as it is (what ``get_FOO_display()`` does)."""
    try:
        label = choices(value).label
    except ValueError:
        return force_str(value, strings_only=True)
    return force_str(label)
