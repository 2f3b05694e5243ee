"""Who manages the embeddable web forms: managers and admins (as for routing rules)."""

import rules

from relay.accounts.choices import Role


@rules.predicate
def can_manage_webforms(user, obj=None) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role in {Role.MANAGER, Role.ADMIN}
    )


rules.add_perm("portal.manage_webforms", can_manage_webforms)
