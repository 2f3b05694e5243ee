from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from relay.accounts.models import ApiToken, Department, User


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active", "is_away")
    list_filter = ("role", "is_active", "is_away", "departments")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Relay", {"fields": ("role", "departments", "title", "phone", "time_zone", "is_away")}),
    )
    filter_horizontal = ("departments", "groups", "user_permissions")


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ("name", "supervisor", "email", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "user", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request: object) -> bool:
        return False  # tokens are issued with `relay apitoken`, which shows the secret once
