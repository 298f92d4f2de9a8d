from django.urls import path

from website import views

# The catalogue's pages: catalog:book-list, catalog:book-detail (as templates and
# Book.get_absolute_url name them).
app_name = "catalog"
urlpatterns = [
    path("", views.BookListView.as_view(), name="book-list"),
    path("books/<int:pk>/", views.BookDetailView.as_view(), name="book-detail"),
]
