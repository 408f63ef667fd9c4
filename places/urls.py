from django.urls import path

from . import views

app_name = "places"

urlpatterns = [
    path("", views.PlaceListView.as_view(), name="place-list"),
    path("export.csv", views.PlaceExportView.as_view(), name="place-export"),
    path("<slug:slug>/", views.PlaceDetailView.as_view(), name="place-detail"),
]
