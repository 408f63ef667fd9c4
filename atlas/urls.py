from django.urls import path

from . import views

app_name = "atlas"

urlpatterns = [
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
