"""What each role should try first: two lines on the home page, so a first visit has a direction."""

from apps.agencies.roles import Role

FIRST_STEPS: dict[str, tuple[str, str]] = {
    Role.ANALYST: (
        "Work the shared queues: claim a target, read why the engine flagged it, and nominate or withdraw.",
        "Open a subject to see everything known about it across API, PNR, manifests and declarations.",
    ),
    Role.SUPERVISOR: (
        "Approve or reject the targets awaiting approval, then dispatch them within each port's capacity.",
        "Watch the floor board: every change by anyone appears there without reload.",
    ),
    Role.LIAISON: (
        "You see what is shared with your agency. Add intelligence, or put a hold on a target you have an "
        "interest in (a controlled delivery).",
        "Nothing another agency has not shared with you appears anywhere: not on pages, in counts or exports.",
    ),
    Role.FRONTLINE: (
        "Open My instructions on the tablet: the targets for your port, ordered by arrival.",
        "Record the result with photos; it is kept on the tablet when the network drops and sent once.",
    ),
    Role.RISK_MANAGER: (
        "Write a rule in the rule lab, backtest it on history, run it in shadow, then activate it.",
        "Keep watchlists current and retrain the risk model on the latest examination results.",
    ),
    Role.MANAGER: (
        "Open Reports: hit rates, seizures, facilitation and the effectiveness of each rule and model.",
        "Export any table to CSV or a period to PDF, or schedule the weekly report.",
    ),
    Role.AUDITOR: (
        "Search the access log: who saw which personal data, when and for what purpose.",
        "Review unmasking requests and check the hash chain of the records.",
    ),
    Role.ADMINISTRATOR: (
        "Keep agencies, ports, capacities and people current in the administration pages.",
        "Choose the operating model (centralised, decentralised or hybrid) for the installation.",
    ),
    Role.SYSTEM: (
        "Use the REST API with your token; the OpenAPI schema and its docs are served here.",
        "Push manifests, declarations, API and PNR; pull targets and results.",
    ),
}
