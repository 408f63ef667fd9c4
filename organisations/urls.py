from django.urls import path

from . import views

app_name = "organisations"

urlpatterns = [
    path("", views.OrganisationListView.as_view(), name="organisation-list"),
    path("export.csv", views.OrganisationExportView.as_view(), name="organisation-export"),
    path("<slug:slug>/", views.OrganisationDetailView.as_view(), name="organisation-detail"),
]
