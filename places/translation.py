import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import Place, PlaceFigure


@register(Place)
class PlaceTranslation(TranslationOptions):
    fields = ("name", "description")


@register(PlaceFigure)
class PlaceFigureTranslation(TranslationOptions):
    fields = ("note",)


simple_history.register(Place)
simple_history.register(PlaceFigure)
