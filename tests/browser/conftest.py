"""Browser tests share the plugin ``tests.browser_support``; these names stay importable from here."""

from tests.browser_support import CHROMIUM, SCREENSHOTS, sign_in

__all__ = ["CHROMIUM", "SCREENSHOTS", "sign_in"]
