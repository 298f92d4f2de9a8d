from django.conf import global_settings
from django.db import models
from django.urls import reverse

from catalog.isbn import ISBNField


class Author(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Book(models.Model):
    # ISO 639-1 codes (with Django's regional variants), as Django itself lists them.
    LANGUAGES = global_settings.LANGUAGES

    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    authors = models.ManyToManyField(Author, related_name="books")
    isbn = ISBNField("ISBN", unique=True, help_text="ISBN-13; an ISBN-10 is converted.")
    publisher = models.CharField(max_length=200, blank=True)
    publication_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=7, choices=LANGUAGES, default="en")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["title"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("catalog:book-detail", args=[self.pk])

