"""Fill the database with a realistic synthetic registry for benchmarks and load tests."""

import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models import Publication, Source
from core.text import search_key
from organisations.models import Organisation, OrganisationName
from partnerships import facets
from partnerships.models import Event, Participant, Partnership, Theme
from places.models import Place, PlaceFigure, PlaceName

SYLLABLES = "an bei chang cheng da dong fu guang hai hang he hu jia jiang jin kai lan li".split()
SYLLABLES += "lin long ming nan ning qing shan shang su tai tian wu xi xin yang yong zhou".split()
HANZI = "安北长城大东福广海杭河湖嘉江金开兰丽林龙明南宁青山上苏泰天无锡新扬永州"
DANISH = "Aal Aar Ber Bil Esb Fre Hol Hor Kol Kør Næs Ods Ran Ros Sil Sla Sve Tøn Vej Vib".split()
ENDINGS = ["by", "borg", "bæk", "rup", "sted", "lev", "høj", "ager", "strup", "løse"]
ORGANISATION_WORDS = [
    ("University", Organisation.Kind.UNIVERSITY),
    ("Hospital", Organisation.Kind.HOSPITAL),
    ("Technologies", Organisation.Kind.COMPANY),
    ("Chamber of Commerce", Organisation.Kind.BUSINESS_ASSOCIATION),
    ("Research Institute", Organisation.Kind.RESEARCH_INSTITUTE),
    ("Innovation Centre", Organisation.Kind.INNOVATION_CENTRE),
]
THEMES = [
    ("education", "Education", "Uddannelse"),
    ("elderly-care", "Elderly care", "Ældreområdet"),
    ("energy", "Energy", "Energi"),
    ("environment", "Environment", "Miljø"),
    ("health", "Health", "Sundhed"),
    ("business", "Business", "Erhverv"),
    ("research", "Research", "Forskning"),
    ("urban-planning", "Urban planning", "Byplanlægning"),
]


class Command(BaseCommand):
    help = (
        "Add a synthetic registry: places in a hierarchy, organisations, and N partnerships "
        "with participants, names, figures and events. For benchmarks; never on real data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnerships", type=int, default=1000, metavar="N")
        parser.add_argument("--seed", type=int, default=2012, help="random seed")

    def handle(self, *args, partnerships, seed, **options):
        if partnerships < 1 or partnerships > 1_000_000:
            raise CommandError("--partnerships takes a number from 1 to 1000000.")
        if Place.objects.filter(slug__startswith="bench-").exists():
            raise CommandError("This database already holds benchmark data; use a fresh database.")
        self.random = random.Random(seed)
        # The partnership facet counts once at the end, not after each bulk write.
        with transaction.atomic(), facets.recounted_after():
            source = Source.objects.create(title="Synthetic benchmark data", author="bench")
            places = self.make_places(max(40, partnerships // 10), source)
            organisations = self.make_organisations(max(20, partnerships // 5), places)
            self.make_partnerships(partnerships, places, organisations, source)
            # The bench measures the public pages, which show published records only.
            for model in (Place, Organisation, Partnership):
                model.objects.filter(slug__startswith="bench-").update(
                    publication=Publication.PUBLISHED
                )
        self.stdout.write(
            f"Created {len(places)} places, {len(organisations)} organisations and "
            f"{partnerships} partnerships."
        )

    def chinese_name(self):
        count = self.random.choice([2, 2, 3])
        syllables = [self.random.randrange(len(SYLLABLES)) for _ in range(count)]
        latin = "".join(SYLLABLES[i] for i in syllables).capitalize()
        native = "".join(HANZI[i % len(HANZI)] for i in syllables)
        return latin, native

    def danish_name(self):
        return self.random.choice(DANISH) + self.random.choice(ENDINGS)

    def make_places(self, count, source):
        countries = [
            Place(name="Bench China", kind=Place.Kind.COUNTRY, country="CN", native_name="中国"),
            Place(name="Bench Denmark", kind=Place.Kind.COUNTRY, country="DK"),
        ]
        for number, place in enumerate(countries):
            place.slug = f"bench-country-{number}"
            place.search_key = search_key([place.name, place.native_name])
        Place.objects.bulk_create(countries)
        provinces = []
        for number in range(max(4, count // 20)):
            china = number % 2 == 0
            latin, native = self.chinese_name() if china else (self.danish_name(), "")
            provinces.append(
                Place(
                    name=f"{latin} {'Province' if china else 'Region'}",
                    native_name=native,
                    kind=Place.Kind.PROVINCE if china else Place.Kind.REGION,
                    country="CN" if china else "DK",
                    parent=countries[0 if china else 1],
                    slug=f"bench-region-{number}",
                )
            )
        Place.objects.bulk_create(self.keyed(provinces))
        cities = []
        for number in range(count - len(provinces) - len(countries)):
            province = provinces[number % len(provinces)]
            china = province.country == "CN"
            latin, native = self.chinese_name() if china else (self.danish_name(), "")
            cities.append(
                Place(
                    name=f"{latin} {number}",
                    native_name=f"{native}{number}" if native else "",
                    kind=Place.Kind.CITY if china else Place.Kind.MUNICIPALITY,
                    country=province.country,
                    parent=province,
                    slug=f"bench-city-{number}",
                    latitude=round(self.random.uniform(20, 56), 4),
                    longitude=round(self.random.uniform(8, 122), 4),
                )
            )
        Place.objects.bulk_create(self.keyed(cities, former_name))
        places = [*countries, *provinces, *cities]
        PlaceName.objects.bulk_create(
            PlaceName(place=place, name=former_name(place), kind=PlaceName.Kind.FORMER)
            for place in cities
        )
        PlaceFigure.objects.bulk_create(
            PlaceFigure(
                place=place,
                kind=PlaceFigure.Kind.POPULATION,
                value=self.random.randrange(20_000, 9_000_000),
                year=year,
                source=source,
            )
            for place in provinces + cities
            for year in (2009, 2020)
        )
        return places

    def make_organisations(self, count, places):
        cities = [place for place in places if place.kind in {Place.Kind.CITY, "municipality"}]
        organisations = []
        for number in range(count):
            place = cities[number % len(cities)]
            word, kind = ORGANISATION_WORDS[number % len(ORGANISATION_WORDS)]
            name = f"{place.name.rsplit(' ', 1)[0]} {word} {number}"
            organisations.append(
                Organisation(
                    name=name,
                    short_name=f"O{number}",
                    kind=kind,
                    country=place.country,
                    place=place,
                    slug=f"bench-org-{number}",
                )
            )
        for number, organisation in enumerate(organisations):
            organisation.alias = f"{organisation.name} alias" if number % 3 == 0 else ""
        Organisation.objects.bulk_create(self.keyed(organisations, lambda o: o.alias))
        OrganisationName.objects.bulk_create(
            OrganisationName(organisation=organisation, name=organisation.alias)
            for organisation in organisations
            if organisation.alias
        )
        return organisations

    def make_partnerships(self, count, places, organisations, source):
        themes = [
            Theme.objects.get_or_create(slug=slug, defaults={"name": name, "name_da": name_da})[0]
            for slug, name, name_da in THEMES
        ]
        danish = [place for place in places if place.country == "DK" and place.parent_id]
        chinese = [place for place in places if place.country == "CN" and place.parent_id]
        kinds = list(Partnership.Kind.values)
        statuses = list(Partnership.Status.values)
        partnerships, parties = [], []
        for number in range(count):
            first = self.random.choice(danish)
            second = self.random.choice(chinese)
            extra = self.random.sample(organisations, self.random.choice([0, 0, 1, 2]))
            start = self.random.randrange(1980, 2024)
            precision = self.random.random()
            start_text = (
                f"{start // 10 * 10}s"
                if precision < 0.1
                else f"c. {start}"
                if precision < 0.2
                else f"{start}-{self.random.randrange(1, 13):02d}"
                if precision < 0.5
                else str(start)
            )
            status = self.random.choice(statuses)
            partnership = Partnership(
                title=f"{first.name}–{second.name} {number}",
                slug=f"bench-partnership-{number}",
                kind=self.random.choice(kinds),
                status=status,
                start=start_text,
                end=str(start + self.random.randrange(1, 10)) if status == "ended" else None,
                description="Synthetic partnership for benchmarks.",
            )
            # bulk_create skips save(), so derive what save() would.
            partnership.start_on = partnership.start.earliest
            partnership.end_on = partnership.end.latest if partnership.end else None
            partnership.search_key = search_key(partnership.all_names())
            partnerships.append(partnership)
            parties.append([first, second, *extra])
        Partnership.objects.bulk_create(partnerships, batch_size=2000)
        Participant.objects.bulk_create(
            (
                Participant(
                    partnership=partnership,
                    place=party if isinstance(party, Place) else None,
                    organisation=party if isinstance(party, Organisation) else None,
                )
                for partnership, group in zip(partnerships, parties, strict=True)
                for party in group
            ),
            batch_size=5000,
        )
        Event.objects.bulk_create(
            (
                Event(
                    partnership=partnership,
                    date=partnership.start,
                    date_on=partnership.start_on,
                    kind=Event.Kind.SIGNING,
                    text="Agreement signed.",
                    source=source,
                )
                for partnership in partnerships
            ),
            batch_size=5000,
        )
        Through = Partnership.themes.through
        Through.objects.bulk_create(
            (
                Through(partnership_id=partnership.pk, theme_id=theme.pk)
                for partnership in partnerships
                for theme in self.random.sample(themes, self.random.choice([1, 2, 3]))
            ),
            batch_size=5000,
        )
        SourceThrough = Partnership.sources.through
        SourceThrough.objects.bulk_create(
            (SourceThrough(partnership_id=p.pk, source_id=source.pk) for p in partnerships),
            batch_size=5000,
        )

    @staticmethod
    def keyed(records, other_name=lambda record: ""):
        # bulk_create skips save(), and the other names do not exist yet: key them here.
        for record in records:
            record.search_key = search_key([*record.all_names(), other_name(record)])
        return records


def former_name(place):
    return f"{place.name} (old)"
