from collections.abc import Sequence
from typing import Any

from django.contrib import admin

from relay.customers.models import IdentifierScheme, Tag


@admin.register(IdentifierScheme)
class IdentifierSchemeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_sensitive", "pattern")
    list_filter = ("is_sensitive",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)

    def get_readonly_fields(self, request: Any, obj: Tag | None = None) -> tuple[str, ...]:
        # parties keep their tag names in a derived list column: a tag is named once, when it is made
        return ("name", "slug") if obj else ()

    def get_prepopulated_fields(self, request: Any, obj: Tag | None = None) -> dict[str, Sequence[str]]:
        return {} if obj else {"slug": ("name",)}
