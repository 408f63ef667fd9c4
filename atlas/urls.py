from django.urls import path

from . import views
from .changes_views import ChangesView
from .feeds import RecordChangesFeed, RegistryChangesFeed

app_name = "atlas"

urlpatterns = [
    path("changes/", ChangesView.as_view(), name="changes"),
    path("changes/feed/", RegistryChangesFeed(), name="changes-feed"),
    path(
        "changes/feed/<str:kind>/<slug:slug>/",
        RecordChangesFeed(),
        name="record-changes-feed",
    ),
    path("map/", views.MapView.as_view(), name="map"),
    path("network/", views.NetworkView.as_view(), name="network"),
    path("network/network.gexf", views.network_download, {"fmt": "gexf"}, name="network-gexf"),
    path(
        "network/network.graphml",
        views.network_download,
        {"fmt": "graphml"},
        name="network-graphml",
    ),
    path("network/nodes.csv", views.network_download, {"fmt": "nodes"}, name="network-nodes"),
    path("network/edges.csv", views.network_download, {"fmt": "edges"}, name="network-edges"),
    *(
        path(
            f"network/{kind}/<slug:slug>/",
            views.NetworkView.as_view(),
            {"kind": kind},
            name=f"network-{kind}",
        )
        for kind in views.AROUND_MODELS
    ),
]
