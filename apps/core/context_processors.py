from apps.agencies.operations import membership_of
from apps.core.navigation import items_for
from apps.core.search import kinds_for


def navigation(request):
    user = getattr(request, "user", None)
    membership = membership_of(user)
    if membership is None:
        return {"nav_items": [], "current_membership": None, "can_search": False}
    return {
        "nav_items": items_for(user),
        "current_membership": membership,
        # The header search box, for a role that may search at least one kind of record.
        "can_search": bool(kinds_for(user)),
    }
