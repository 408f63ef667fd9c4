"""One router for the whole API: /api/places/, /api/organisations/, ..."""

from rest_framework.routers import DefaultRouter

from atlas.api import MapViewSet, NetworkViewSet
from core.api import SourceViewSet
from organisations.api import OrganisationViewSet
from partnerships.api import PartnershipViewSet, ThemeViewSet
from places.api import PlaceViewSet

router = DefaultRouter()
router.register("places", PlaceViewSet, basename="place")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("partnerships", PartnershipViewSet, basename="partnership")
router.register("themes", ThemeViewSet, basename="theme")
router.register("sources", SourceViewSet, basename="source")
router.register("map", MapViewSet, basename="map")
router.register("network", NetworkViewSet, basename="network")

urlpatterns = router.urls
