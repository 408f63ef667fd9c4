from django.urls import path

from . import views

app_name = "partnerships"

urlpatterns = [
    path("", views.PartnershipListView.as_view(), name="partnership-list"),
    path("export.csv", views.PartnershipExportView.as_view(), name="partnership-export"),
    path("<slug:slug>/", views.PartnershipDetailView.as_view(), name="partnership-detail"),
]
