import factory
from django.contrib.auth import get_user_model

from core.models import Publication, Source
from organisations.models import Organisation, OrganisationName
from partnerships.models import Event, Participant, Partnership, Theme
from places.models import Place, PlaceFigure, PlaceName


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    title = factory.Sequence(lambda n: f"Report {n}")
    author = "Region Midtjylland"


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    name = factory.Sequence(lambda n: f"Place {n}")
    kind = Place.Kind.CITY
    country = "CN"
    # Most tests look at the public site; drafts are asked for by name.
    publication = Publication.PUBLISHED


class PlaceNameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaceName

    place = factory.SubFactory(PlaceFactory)
    name = factory.Sequence(lambda n: f"Other name {n}")


class PlaceFigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaceFigure

    place = factory.SubFactory(PlaceFactory)
    kind = PlaceFigure.Kind.POPULATION
    value = 1000
    year = 2009
    source = factory.SubFactory(SourceFactory)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.UNIVERSITY
    country = "DK"
    publication = Publication.PUBLISHED


class OrganisationNameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationName

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Other organisation name {n}")


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Theme {n}")
    slug = factory.Sequence(lambda n: f"theme-{n}")


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Partnership {n}")
    kind = Partnership.Kind.COOPERATION_AGREEMENT
    status = Partnership.Status.ACTIVE
    publication = Publication.PUBLISHED

    @factory.post_generation
    def parties(self, create, extracted, **kwargs):
        """Two place participants unless the test passes its own list of parties."""
        if not create:
            return
        parties = extracted if extracted is not None else [PlaceFactory(), PlaceFactory()]
        for party in parties:
            field = "place" if isinstance(party, Place) else "organisation"
            Participant.objects.create(partnership=self, **{field: party})


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    partnership = factory.SubFactory(PartnershipFactory)
    date = "2010"
    kind = Event.Kind.CONFERENCE
    text = "A joint education conference"
