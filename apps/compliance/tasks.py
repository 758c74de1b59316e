"""Scheduled compliance work: retention nightly; the chains sealed and anchored every minute and
verified in full every night. When each runs is registered in ``apps.core.schedule`` (jobs
``apply-retention``, ``compliance-chain-anchor``, ``compliance-chain-verify-full``).
"""

from celery import shared_task

from apps.compliance.services import apply_retention


@shared_task
def apply_retention_task() -> int:
    return apply_retention().pk


@shared_task(name="compliance.anchor_chains")
def anchor_chains_task() -> dict[str, int]:
    """Link what has committed into each chain and anchor its head outside the database."""
    from apps.compliance.chain import anchor_now
    from apps.compliance.registry import chained_models

    return {m._meta.label_lower: anchor_now(m) for m in chained_models()}


@shared_task(name="compliance.verify_chains")
def verify_chains_task(full: bool = False) -> dict[str, str]:
    """Verify each chain (in full at night); a broken one is logged as an error and returned."""
    import logging

    from apps.compliance.registry import chained_models
    from apps.compliance.verification import verify_chain

    out = {}
    for model in chained_models():
        report = verify_chain(model, full=full)
        out[model._meta.label_lower] = (
            "intact" if report.ok else f"BROKEN at #{report.first_broken_seq}: {report.reason}"
        )
        if not report.ok:
            logging.getLogger(__name__).error("Chain %s broken: %s", model._meta.label_lower, report.reason)
    return out
