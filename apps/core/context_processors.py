from apps.agencies.operations import membership_of
from apps.core.navigation import items_for


def navigation(request):
    user = getattr(request, "user", None)
    membership = membership_of(user)
    if membership is None:
        return {"nav_items": [], "current_membership": None}
    return {"nav_items": items_for(user), "current_membership": membership}
