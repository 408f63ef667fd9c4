import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.text import query_terms
from organisations.models import Organisation
from tests.factories import OrganisationFactory, OrganisationNameFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def test_found_by_name_short_name_native_name_and_other_names():
    tongji = OrganisationFactory(name="Tongji University", short_name="TJU", native_name="同济大学")
    OrganisationNameFactory(organisation=tongji, name="Tonqui universitetet")
    for query in ["tongji", "TJU", "同济", "tonqui universitetet", "Tonqui"]:
        assert list(Organisation.objects.matching(query_terms(query))) == [tongji]


def test_an_organisation_cannot_belong_to_one_of_its_parts():
    academy = OrganisationFactory(name="Chinese Academy of Sciences")
    ucas = OrganisationFactory(name="UCAS", parent=academy)
    academy.parent = ucas
    with pytest.raises(ValidationError) as error:
        academy.full_clean()
    assert "parent" in error.value.message_dict
    academy.parent_id = academy.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        academy.save()


def test_in_place_includes_sub_places():
    jiangsu = PlaceFactory(name="Jiangsu")
    nanjing = PlaceFactory(name="Nanjing", parent=jiangsu)
    university = OrganisationFactory(name="Nanjing University", place=nanjing)
    OrganisationFactory(name="Elsewhere", place=PlaceFactory())
    assert list(Organisation.objects.in_place(jiangsu)) == [university]


def test_ror_id_is_checked():
    organisation = OrganisationFactory.build(ror_id="not-a-ror")
    with pytest.raises(ValidationError) as error:
        organisation.full_clean()
    assert "ror_id" in error.value.message_dict
