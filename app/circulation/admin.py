from django.contrib import admin

from circulation.models import Copy, Loan


@admin.register(Copy)
class CopyAdmin(admin.ModelAdmin):
    list_display = ["barcode", "book", "location", "status"]
    list_filter = ["status"]
    search_fields = ["barcode", "book__title", "book__isbn"]
    list_select_related = ["book"]
    raw_id_fields = ["book"]


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = ["copy", "borrower", "checked_out_at", "due_at", "returned_at"]
    list_filter = ["returned_at"]
    search_fields = ["copy__barcode", "borrower__username"]
    # Copy.__str__ names its book: without copy__book, one query per row.
    list_select_related = ["copy__book", "borrower"]
    raw_id_fields = ["copy", "borrower"]
