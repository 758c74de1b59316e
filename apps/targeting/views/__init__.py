"""Targeting pages: thin views over ``queries`` (reading) and ``services`` (every change).

Each page scopes through ``visible_to``; a target outside the viewer's scope is 404. Every change is a
POST with CSRF to its own URL, checked by its own form (``apps.targeting.forms``); a stale change or an
illegal move comes back as a message on the page, never a stack trace (``apps.core.actions.acting``).

- ``lists``: the queues, the list of targets, the instructions of a port;
- ``exports``: the CSV exports and attachment downloads;
- ``target``: a target's page;
- ``actions``: one view per action on a target (claim, a transition, hold, comment, share, consent);
- ``planning``: nominating a subject, the dispatch proposal of a shift, joint operations.
"""
