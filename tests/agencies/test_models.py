import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from apps.agencies.models import CentreConfiguration, OperatingModel
from tests.factories import AgencyFactory, PortCapacityFactory, PortFactory


def test_agency_gets_its_own_group(db):
    agency = AgencyFactory(code="IMM")
    assert agency.group.name == "agency:IMM"


def test_locode_is_validated(db):
    port = PortFactory.build(locode="rotterdam")
    with pytest.raises(ValidationError) as err:
        port.full_clean()
    assert "locode" in err.value.message_dict


def test_one_capacity_per_port_shift_and_method(db):
    cap = PortCapacityFactory()
    with pytest.raises(IntegrityError):
        PortCapacityFactory(port=cap.port, shift=cap.shift, method=cap.method)


def test_operating_model_defaults_from_settings_and_is_changed_by_configuration(db, settings):
    settings.RATC_OPERATING_MODEL_DEFAULT = "hybrid"
    assert CentreConfiguration.current().operating_model == OperatingModel.HYBRID
    config = CentreConfiguration.current()
    config.operating_model = OperatingModel.DECENTRALISED
    config.save()
    assert CentreConfiguration.current().operating_model == OperatingModel.DECENTRALISED
    assert CentreConfiguration.objects.count() == 1
