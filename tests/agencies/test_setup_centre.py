"""A centre from its configuration file: created, brought in line, refused with the line named, and a
floor that works on what it built."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from guardian.shortcuts import get_groups_with_perms

from apps.agencies.centre import CentreFileError, setup_centre
from apps.agencies.models import Agency, AgencyKind, CentreConfiguration, Membership, Port, PortCapacity
from apps.compliance.services import SESSION_KEY
from apps.intake.models import DataSource, Subject
from apps.intake.services import ingest_paths, iter_files

EXAMPLE = Path(settings.BASE_DIR) / "centre.example.yaml"
SHARED = Path(settings.SHARED_DATA_DIR)

SMALL = """\
centre:
  operating_model: centralised
  national_agency: CUS
agencies:
  - {code: CUS, name: Customs, kind: customs, country: GB}
  - {code: POL, name: Police, kind: police, country: GB}
partners:
  - {code: NLDOU, name: Netherlands Customs, country: NL}
ports:
  - locode: GBFXT
    name: Felixstowe
    mode: sea
    timezone: Europe/London
    capacity:
      early: {scan: 10, physical: 4}
sources:
  - name: Declarations
    kind: declaration
    owner: CUS
    legal_basis: Customs code, art. 46
    retention_days: 1825
    mask_after_days: 365
    self_learning: true
    shared_with: [POL]
roles:
  - {name: analysts, agency: CUS, role: analyst}
  - {name: officers, agency: CUS, role: frontline, ports: [GBFXT], title: Officer}
users:
  - {username: sara, first_name: Sara, role: analysts}
  - {username: dan, role: officers}
"""


def apply(text: str, **kwargs):
    return setup_centre("centre.yaml", text=text, **kwargs)


def test_the_example_builds_a_centre_and_a_second_run_changes_nothing(db):
    out = io.StringIO()
    call_command("setup_centre", str(EXAMPLE), stdout=out)
    assert "change(s) changed" in out.getvalue()
    assert Agency.objects.filter(kind=AgencyKind.FOREIGN_PARTNER).count() == 2
    assert Port.objects.count() == 5 and PortCapacity.objects.filter(port__locode="GBFXT").count() == 12
    config = CentreConfiguration.current()
    assert (config.operating_model, config.national_agency.code) == ("centralised", "CUS")
    pnr = DataSource.objects.get(kind="pnr")
    assert (pnr.depersonalise_after_days, pnr.allows_self_learning) == (182, False)
    assert {g.name for g in get_groups_with_perms(pnr)} == {"agency:POL"}
    officer = Membership.objects.get(user__username="officer.felixstowe")
    assert (officer.role, officer.port_codes, officer.title) == (
        "frontline",
        ["GBFXT"],
        "Officer, Felixstowe",
    )
    assert not officer.user.has_usable_password()  # SSO, or an administrator sets one
    out = io.StringIO()
    call_command("setup_centre", str(EXAMPLE), stdout=out)
    assert "Already in line: nothing to change" in out.getvalue()


def test_a_dry_run_lists_the_changes_and_writes_nothing(db):
    out = io.StringIO()
    call_command("setup_centre", str(EXAMPLE), "--dry-run", stdout=out)
    assert "create  port GBFXT" in out.getvalue() and "dry run: nothing was written" in out.getvalue()
    assert not Port.objects.exists() and not Agency.objects.exists()


def test_a_changed_file_brings_the_centre_in_line_and_says_what_changed(db):
    apply(SMALL)
    changed = (
        SMALL.replace("operating_model: centralised", "operating_model: hybrid")
        .replace("early: {scan: 10, physical: 4}", "early: {scan: 12}\n      night: {scan: 2}")
        .replace("shared_with: [POL]", "shared_with: []")
        .replace("{username: dan, role: officers}", "{username: dan, role: analysts}")
    )
    lines = [str(c) for c in apply(changed).changes]
    assert any(line.startswith("update  operating model: centralised → hybrid") for line in lines), lines
    assert "update  capacity GBFXT early scan: slots 10 → 12" in lines
    assert "remove  capacity GBFXT early physical: not in the file" in lines
    assert "create  capacity GBFXT night scan" in lines
    assert "revoke  source 'Declarations': no longer shared with POL" in lines
    assert CentreConfiguration.current().operating_model == "hybrid"
    assert not get_groups_with_perms(DataSource.objects.get())
    dan = Membership.objects.get(user__username="dan")
    assert (dan.role, dan.port_codes) == ("analyst", [])
    assert apply(changed).changes == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "operating_model: centralised",
            "operating_model: federal",
            "centre.yaml:2: centre.operating_model: 'federal' is not one of",
        ),
        ("mode: sea", "mode: boat", "centre.yaml:12: ports[0].mode: 'boat' is not one of"),
        ("    capacity:", "    capcity:", "centre.yaml:14: ports[0].capcity: not a key this file knows"),
        ("locode: GBFXT", "locode: gbfxt", "centre.yaml:10: ports[0].locode: A UN/LOCODE is 2 letters"),
        (
            "owner: CUS",
            "owner: CUZ",
            "centre.yaml:19: sources[0].owner: no agency 'CUZ' in the file or the database",
        ),
        (
            "retention_days: 1825",
            "retention_days: 0",
            "centre.yaml:21: sources[0].retention_days: Input should be greater",
        ),
        (
            "{code: POL, name: Police",
            "{code: CUS, name: Police",
            "centre.yaml:6: agencies[1].code: 'CUS' is given twice (first on line 5)",
        ),
        (
            "{username: dan, role: officers}",
            "{username: dan, role: ghosts}",
            "centre.yaml:30: users[1].role: no role profile 'ghosts' (known: analysts, officers)",
        ),
        ("ports: [GBFXT]", "ports: [GBDVR]", "centre.yaml:27: roles[1].ports[0]: no port 'GBDVR'"),
        ("centre:\n", "centre: [\n", "centre.yaml:3: not YAML"),
        (
            "  national_agency: CUS\n",
            "  national_agency: CUS\n  examination_focus:\n    narcotics: ''\n",
            "centre.yaml:5: centre.examination_focus.narcotics: String should have at least 1 character",
        ),
    ],
)
def test_a_mistake_is_named_with_its_line_and_nothing_is_written(db, old, new, expected):
    assert old in SMALL
    with pytest.raises(CentreFileError) as refused:
        apply(SMALL.replace(old, new, 1))
    assert any(p.startswith(expected) for p in refused.value.problems), refused.value.problems
    assert not Agency.objects.exists() and not Port.objects.exists()


def test_the_command_refuses_a_bad_file_with_every_problem(db, tmp_path):
    bad = tmp_path / "centre.yaml"
    bad.write_text(SMALL.replace("mode: sea", "mode: boat").replace("kind: police", "kind: army"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("setup_centre", str(bad), stderr=err)
    assert f"{bad}:12: ports[0].mode" in err.getvalue() and f"{bad}:6: agencies[1].kind" in err.getvalue()


def test_a_fresh_centre_from_the_example_takes_intake_and_works_the_floor(db, client):
    """The acceptance of issue 26, item 1: a new database, the example file, the shared messages, and
    the floor works: the analyst finds a consignment and a traveller, nominates, the supervisor approves,
    and both read the target on its page."""
    from apps.targeting.services import approve_target, nominate_target, start_review, submit_for_approval

    setup_centre(EXAMPLE)
    assert SHARED.is_dir(), f"the shared data folder {SHARED} is missing"
    paths = [SHARED / "passenger-messages" / "paxlst", SHARED / "cargo" / "wco-dec"]
    runs = ingest_paths(actor=None, source=None, paths=list(iter_files(paths)))
    # Each file went to the example's source of its kind, with no source named.
    assert {run.source.name for run in runs} == {"API — all carriers", "Import declarations"}
    # The shared folders hold a few deliberately broken files: refused with their reason, the rest stored.
    assert all(p["reason"] for run in runs for p in run.problems)
    User = get_user_model()
    analyst, supervisor = User.objects.get(username="analyst"), User.objects.get(username="supervisor")
    visible = Subject.objects.visible_to(analyst)
    # API is the immigration service's, shared with customs by the example: the analyst sees both kinds.
    assert visible.filter(kind="traveller").count() > 10 and visible.filter(kind="consignment").count() > 10
    consignment = visible.filter(kind="consignment").order_by("pk").first()
    target = nominate_target(
        actor=analyst, subject=consignment, risk_area="narcotics", reasons=["Manual selection"]
    )
    target = submit_for_approval(actor=analyst, target=start_review(actor=analyst, target=target))
    target = approve_target(actor=supervisor, target=target)
    assert target.state == "approved"
    for person in (analyst, supervisor):
        client.force_login(person)
        session = client.session
        session[SESSION_KEY] = {"code": "risk_analysis", "text": ""}
        session.save()
        page = client.get(reverse("targeting:detail", args=[target.pk]))
        assert page.status_code == 200 and target.reference.encode() in page.content


def test_the_centres_words_for_what_to_look_for_are_set_changed_and_given_back(db):
    from apps.targeting.models import EXAMINATION_FOCUS, ExaminationFocus

    focus = "  national_agency: CUS\n  examination_focus:\n    narcotics: Open every pallet base.\n    ipr: Photograph the labels.\n"
    lines = [str(c) for c in apply(SMALL.replace("  national_agency: CUS\n", focus, 1)).changes]
    assert "create  examination focus narcotics" in lines and "create  examination focus ipr" in lines
    words = ExaminationFocus.words()
    assert (
        words["narcotics"] == "Open every pallet base." and words["revenue"] == EXAMINATION_FOCUS["revenue"]
    )
    # IPR left out: it reads the product's words again; without the key, the centre's words stay.
    lines = [
        str(c) for c in apply(SMALL.replace("  national_agency: CUS\n", focus.split("    ipr")[0], 1)).changes
    ]
    assert lines == ["remove  examination focus ipr: not in the file"]
    assert ExaminationFocus.words()["ipr"] == EXAMINATION_FOCUS["ipr"]
    assert apply(SMALL).changes == [] and ExaminationFocus.objects.count() == 1
    with pytest.raises(CentreFileError) as refused:
        apply(
            SMALL.replace(
                "  national_agency: CUS\n",
                "  national_agency: CUS\n  examination_focus:\n    drugs: Open it.\n",
                1,
            )
        )
    assert any(
        p.startswith("centre.yaml:5: centre.examination_focus.drugs") for p in refused.value.problems
    ), refused.value.problems
