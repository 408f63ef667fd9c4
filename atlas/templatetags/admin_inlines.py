import json

from django import template

register = template.Library()


@register.simple_tag
def inline_formset_data(inline_admin_formset):
    """Django's inline options, with the inline's own "add another" text when it has one.

    Django builds the text as "Add another %(verbose_name)s", which one Danish sentence
    cannot say for every noun: "endnu en deltager" but "endnu et nøgletal".
    """
    data = json.loads(inline_admin_formset.inline_formset_data())
    text = getattr(inline_admin_formset.opts, "add_another_text", None)
    if text:
        data["options"]["addText"] = str(text)
    return json.dumps(data)
