import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import Event, Partnership, Theme


@register(Theme)
class ThemeTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Partnership)
class PartnershipTranslation(TranslationOptions):
    fields = ("title", "description")


@register(Event)
class EventTranslation(TranslationOptions):
    fields = ("text",)


simple_history.register(Theme)
simple_history.register(Partnership)
simple_history.register(Event)
