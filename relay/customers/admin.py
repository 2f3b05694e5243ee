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
